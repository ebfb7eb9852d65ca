import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RewardModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed = nn.Embedding(cfg["vocab"], cfg["d_model"])
        self.encoder = nn.GRU(cfg["d_model"], cfg["d_model"], batch_first=True)
        self.value_head = nn.Linear(cfg["d_model"], 1)
        self.temperature = torch.ones(1, requires_grad=True) * cfg["init_temp"]

    def forward(self, ids):
        h, _ = self.encoder(self.embed(ids))
        return self.value_head(h[:, -1]).squeeze(-1) / self.temperature


def build_optimizer(model, cfg):
    return torch.optim.AdamW([
        {"params": model.parameters(), "lr": cfg["lr"], "weight_decay": cfg["weight_decay"]},
        {"params": [model.temperature], "lr": cfg["temp_lr"], "weight_decay": 0.0},
    ])


def train_one_epoch(model, loader, optimizer):
    model.train()
    for chosen, rejected in loader:
        loss = -F.logsigmoid(model(chosen) - model(rejected)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    cfg = {"vocab": 20, "d_model": 16, "init_temp": 2.0, "lr": 3e-3, "temp_lr": 1e-2, "weight_decay": 0.01}
    model = RewardModel(cfg)
    optimizer = build_optimizer(model, cfg)
    g = torch.Generator().manual_seed(0)
    chosen = torch.randint(0, 10, (32, 6), generator=g)
    rejected = torch.randint(10, 20, (32, 6), generator=g)
    loader = DataLoader(TensorDataset(chosen, rejected), batch_size=8, shuffle=True, generator=g)
    t0 = float(model.temperature)
    train_one_epoch(model, loader, optimizer)
    return {"model": model}, {"temperature_changed": float(model.temperature) != t0}

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
