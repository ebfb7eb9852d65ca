import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_tasks": 4, "z_dim": 8, "in_dim": 6, "hidden": 16, "out_dim": 1,
       "lr": 1e-3, "emb_lr": 1e-2, "epochs": 3, "batch_size": 16}


class HyperNetwork(nn.Module):
    """Maps a task embedding to the flattened weights of the target MLP (chunked output heads)."""

    def __init__(self, n_tasks, z_dim, target_shapes):
        super().__init__()
        self.task_emb = torch.randn(n_tasks, z_dim, requires_grad=True) * 0.1
        self.target_shapes = target_shapes
        self.trunk = nn.Sequential(nn.Linear(z_dim, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.heads = nn.ModuleList(nn.Linear(64, math.prod(s)) for s in target_shapes)

    def forward(self, task_id):
        z = self.trunk(self.task_emb[task_id])
        return [head(z).view(*shape) for head, shape in zip(self.heads, self.target_shapes)]


def target_forward(x, weights):
    w1, b1, w2, b2 = weights
    return F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)


def make_model(cfg):
    shapes = [(cfg["hidden"], cfg["in_dim"]), (cfg["hidden"],), (cfg["out_dim"], cfg["hidden"]), (cfg["out_dim"],)]
    return HyperNetwork(cfg["n_tasks"], cfg["z_dim"], shapes)


def build_optimizer(model, cfg):
    generic = [p for n, p in model.named_parameters() if not n.startswith("task_emb")]
    return torch.optim.Adam([
        {"params": generic, "lr": cfg["lr"]},
        {"params": [model.task_emb], "lr": cfg["emb_lr"]},
    ])


def make_tasks(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    loaders = []
    for t in range(cfg["n_tasks"]):
        x = torch.randn(n, cfg["in_dim"], generator=g)
        w = torch.randn(cfg["in_dim"], 1, generator=g)
        y = torch.sin(x @ w) + 0.1 * t
        loaders.append(DataLoader(TensorDataset(x, y), batch_size=cfg["batch_size"], shuffle=True, generator=g))
    return loaders


def train_one_epoch(model, loaders, optimizer):
    model.train()
    losses = []
    for batches in zip(*loaders):
        optimizer.zero_grad()
        loss = 0.0
        for task_id, (x, y) in enumerate(batches):
            weights = model(task_id)
            loss = loss + F.mse_loss(target_forward(x, weights), y)
        loss = loss / len(loaders)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@torch.no_grad()
def evaluate(model, loaders):
    model.eval()
    errs = []
    for task_id, loader in enumerate(loaders):
        weights = model(task_id)
        for x, y in loader:
            errs.append(F.mse_loss(target_forward(x, weights), y).item())
    return sum(errs) / len(errs)


def main():
    torch.manual_seed(0)
    model = make_model(CFG)
    loaders = make_tasks(CFG)
    optimizer = build_optimizer(model, CFG)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    trunk0 = model.trunk[0].weight.detach().clone()
    emb0 = model.task_emb.detach().clone()
    best, history = float("inf"), []
    for epoch in range(CFG["epochs"]):
        history.append(train_one_epoch(model, loaders, optimizer))
        scheduler.step()
        val = evaluate(model, loaders)
        if val < best:
            best = val
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return {"model": model}, {
        "trunk_changed": not torch.equal(trunk0, model.trunk[0].weight),
        "task_emb_changed": not torch.equal(emb0, model.task_emb.detach()),
    }

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
