import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ColorMapper(nn.Module):
    """Per-pixel 1x1 MLP that re-maps colors (a learned tone curve per channel)."""

    def __init__(self, hidden=16):
        super().__init__()
        self.mlp = nn.Sequential(nn.Conv2d(3, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, 3, 1))

    def forward(self, x):
        return torch.sigmoid(self.mlp(x) + torch.logit(x.clamp(1e-3, 1 - 1e-3)))


def channel_histograms(img, bins=32):
    chans = img.transpose(0, 1).flatten(1)
    hist = torch.stack([torch.histc(c, bins=bins, min=0.0, max=1.0) for c in chans])
    return hist / hist.sum(dim=-1, keepdim=True)


class HistogramMatchingLoss(nn.Module):
    """Unpaired data: no pixel correspondence, only the color distribution of the reference."""

    def forward(self, pred, reference):
        hp, hr = channel_histograms(pred), channel_histograms(reference)
        return (hp.cumsum(-1) - hr.cumsum(-1)).abs().mean()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    source = torch.rand(16, 3, 12, 12, generator=g) * 0.5
    reference = torch.rand(16, 3, 12, 12, generator=g) ** 0.5
    loader = DataLoader(TensorDataset(source, reference), batch_size=4, shuffle=True, generator=g)
    model, criterion = ColorMapper(), HistogramMatchingLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for src, ref in loader:
        optimizer.zero_grad()
        loss = criterion(model(src), ref)
        loss.backward()
        optimizer.step()
    return {"model": model}

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
