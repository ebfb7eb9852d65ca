import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DepthSegNet(nn.Module):
    def __init__(self, in_dim=16, hidden=32, n_classes=4):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.seg_head = nn.Linear(hidden, n_classes)
        self.depth_head = nn.Linear(hidden, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.seg_head(h), self.depth_head(h).squeeze(-1)


class UncertaintyWeighting(nn.Module):
    """Kendall et al. 2018: L = sum_i exp(-s_i) * L_i + s_i, with learned log-variances s_i."""

    def __init__(self, n_tasks=2):
        super().__init__()
        self.log_vars = nn.Parameter(torch.zeros(n_tasks))

    def forward(self, task_losses):
        losses = torch.Tensor(task_losses)
        return (torch.exp(-self.log_vars) * losses + self.log_vars).sum()


def train(model, weighting, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for x, seg, depth in loader:
            seg_logits, depth_pred = model(x)
            loss = weighting([F.cross_entropy(seg_logits, seg), F.l1_loss(depth_pred, depth)])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 16, generator=g)
    seg, depth = x[:, :4].argmax(dim=1), x[:, 4:8].sum(dim=1)
    model, weighting = DepthSegNet(), UncertaintyWeighting()
    optimizer = torch.optim.Adam(list(model.parameters()) + list(weighting.parameters()), lr=1e-2)
    before = model.trunk[0].weight.detach().clone()
    train(model, weighting, DataLoader(TensorDataset(x, seg, depth), batch_size=16, shuffle=True, generator=g), optimizer)
    return {"model": model, "weighting": weighting}, {"trunk_changed": not torch.equal(before, model.trunk[0].weight)}

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
