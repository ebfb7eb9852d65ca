import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DepthAndSegNet(nn.Module):
    def __init__(self, in_dim=18, hidden=32, n_classes=4):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.depth_head = nn.Linear(hidden, 1)
        self.seg_head = nn.Linear(hidden, n_classes)

    def forward(self, x):
        h = self.trunk(x)
        return self.depth_head(h).squeeze(-1), self.seg_head(h)


def uncertainty_weighted(losses, log_vars):
    return sum(torch.exp(-lv) * l + lv for l, lv in zip(losses, log_vars))


def main():
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = DepthAndSegNet()
    log_vars = torch.zeros(2, requires_grad=True) * 0.5
    optimizer = torch.optim.Adam([{"params": model.parameters()}, {"params": [log_vars], "lr": 1e-2}], lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(36)
    x = torch.randn(40, 18, generator=g)
    loader = fabric.setup_dataloaders(DataLoader(
        TensorDataset(x, x[:, 0].abs(), torch.randint(0, 4, (40,), generator=g)), batch_size=8, shuffle=True, generator=g))
    for x, depth, seg in loader:
        pred_depth, seg_logits = model(x)
        loss = uncertainty_weighted([F.l1_loss(pred_depth, depth), F.cross_entropy(seg_logits, seg)], log_vars)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}

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
