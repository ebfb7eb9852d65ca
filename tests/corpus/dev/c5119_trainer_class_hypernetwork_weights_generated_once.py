import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 10, "hidden": 16, "out_dim": 1, "z_dim": 8, "tasks": 3, "lr": 2e-3, "epochs": 2}


class HyperNetwork(nn.Module):
    """Maps a task embedding to the weights of a two-layer target MLP."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.task_emb = nn.Embedding(cfg["tasks"], cfg["z_dim"])
        n = cfg["in_dim"] * cfg["hidden"] + cfg["hidden"] + cfg["hidden"] * cfg["out_dim"] + cfg["out_dim"]
        self.gen = nn.Sequential(nn.Linear(cfg["z_dim"], 64), nn.ReLU(), nn.Linear(64, n))

    def forward(self, task):
        flat = self.gen(self.task_emb(torch.tensor(task))) * 0.1
        c, shapes, out = 0, [(self.cfg["hidden"], self.cfg["in_dim"]), (self.cfg["hidden"],),
                             (self.cfg["out_dim"], self.cfg["hidden"]), (self.cfg["out_dim"],)], []
        for s in shapes:
            k = torch.Size(s).numel()
            out.append(flat[c:c + k].view(s))
            c += k
        return out


def target_forward(x, weights):
    w1, b1, w2, b2 = weights
    return F.linear(torch.relu(F.linear(x, w1, b1)), w2, b2)


class MultiTaskHyperTrainer:
    def __init__(self, hnet, loaders, cfg):
        self.hnet, self.loaders, self.cfg = hnet, loaders, cfg
        self.optimizer = torch.optim.Adam(hnet.parameters(), lr=cfg["lr"])
        self.task_weights = {t: hnet(t) for t in loaders}

    def train_step(self, task, x, y):
        pred = target_forward(x, self.task_weights[task])
        loss = F.mse_loss(pred.squeeze(-1), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def fit(self):
        for _ in range(self.cfg["epochs"]):
            for task, loader in self.loaders.items():
                for x, y in loader:
                    self.train_step(task, x, y)


def task_loaders(cfg):
    g = torch.Generator().manual_seed(0)
    out = {}
    for t in range(cfg["tasks"]):
        x = torch.randn(32, cfg["in_dim"], generator=g)
        w = torch.randn(cfg["in_dim"], generator=g)
        out[t] = DataLoader(TensorDataset(x, torch.sin(x @ w)), batch_size=8, shuffle=True, generator=g)
    return out


def main():
    torch.manual_seed(0)
    hnet = HyperNetwork(CFG)
    trainer = MultiTaskHyperTrainer(hnet, task_loaders(CFG), CFG)
    trainer.fit()
    return {"hnet": hnet}

# ---- ground-truth harness (not part of the reported pattern) ----
if __name__ == "__main__":
    import json as _json, time as _time, warnings as _warnings
    import torch as _torch
    _err, _watched, _facts = None, {}, {}
    _torch.optim.SGD([_torch.zeros(1, requires_grad=True)], lr=0.1)  # warm lazy imports outside the timed region
    with _warnings.catch_warnings(record=True) as _w:
        _warnings.simplefilter("always")
        _t0 = _time.perf_counter()
        try:
            _out = main()
            if isinstance(_out, tuple):
                _watched, _facts = _out
            elif _out is not None:
                _watched = _out
        except Exception as _e:
            _err = (type(_e).__name__ + ": " + str(_e)).splitlines()[0][:300]
        _main_s = round(_time.perf_counter() - _t0, 3)
    _warns = sorted({(_m.category.__name__ + ": " + str(_m.message)).splitlines()[0][:200] for _m in _w})
    _states = {}
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        for _name, _obj in _watched.items():
            if isinstance(_obj, _torch.nn.Module):
                _items = [(_name + "." + _n, _p) for _n, _p in _obj.named_parameters()]
            else:
                _items = [(_name, _obj)]
            for _n, _t in _items:
                _g = _t.grad
                _states[_n] = "none" if _g is None else ("ok" if bool(_g.abs().sum() > 0) else "zero")
    print(_json.dumps({
        "grad_none": sorted(k for k, v in _states.items() if v == "none"),
        "grad_zero": sorted(k for k, v in _states.items() if v == "zero"),
        "grad_ok": sorted(k for k, v in _states.items() if v == "ok"),
        "error": _err,
        "warnings": _warns,
        "facts": _facts,
        "main_seconds": _main_s,
        "torch": _torch.__version__,
    }, sort_keys=True))
