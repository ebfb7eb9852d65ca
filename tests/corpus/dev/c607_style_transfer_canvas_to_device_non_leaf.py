import torch
import torch.nn as nn
import torch.nn.functional as F


class FeatureExtractor(nn.Module):
    """Tiny stand-in for a frozen VGG: returns the activations of a few layers."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU()),
            nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2)),
            nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.ReLU()),
        ])

    def forward(self, x):
        feats = []
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        return feats


def gram(f):
    b, c, h, w = f.shape
    f = f.view(b, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def stylize(extractor, content, style, device, steps=3, style_weight=1e4):
    extractor = extractor.to(device).eval().requires_grad_(False)
    with torch.no_grad():
        content_feats = extractor(content.to(device))
        style_grams = [gram(f) for f in extractor(style.to(device))]
    canvas = torch.rand_like(content, requires_grad=True).to(device, dtype=torch.float64)
    optimizer = torch.optim.Adam([canvas], lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        feats = extractor(canvas.float())
        c_loss = F.mse_loss(feats[-1], content_feats[-1])
        s_loss = sum(F.mse_loss(gram(f), g) for f, g in zip(feats, style_grams))
        (c_loss + style_weight * s_loss).backward()
        optimizer.step()
    return canvas.detach().clamp(0, 1)


def main():
    torch.manual_seed(0)
    content = torch.rand(1, 3, 16, 16)
    style = torch.rand(1, 3, 16, 16)
    extractor = FeatureExtractor()
    out = stylize(extractor, content, style, device=torch.device("cpu"))
    return {"canvas": out}

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
