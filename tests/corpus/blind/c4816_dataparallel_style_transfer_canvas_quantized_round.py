import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"size": 24, "style_weight": 1e3, "content_weight": 1.0, "lr": 0.05, "steps": 6, "levels": 255}


class VGGSlices(nn.Module):
    def __init__(self):
        super().__init__()
        self.slice1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.slice2 = nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())

    def forward(self, x):
        a = self.slice1(x)
        return a, self.slice2(a)


def gram(f):
    b, c, h, w = f.shape
    f = f.reshape(b, c, -1)
    return f @ f.transpose(1, 2) / (c * h * w)


def to_display_range(canvas, levels):
    """What the saved PNG will look like: 8-bit quantized RGB (so the loss sees exactly the exported image)."""
    return torch.round(canvas.clamp(0, 1) * levels) / levels


def stylize(vgg, content, style, cfg):
    canvas = content.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([canvas], lr=cfg["lr"])
    with torch.no_grad():
        style_grams = [gram(f) for f in vgg(style)]
        content_target = vgg(content)[1]
    for _ in range(cfg["steps"]):
        feats = vgg(to_display_range(canvas, cfg["levels"]))
        loss = cfg["style_weight"] * sum(F.mse_loss(gram(f), g) for f, g in zip(feats, style_grams)) \
            + cfg["content_weight"] * F.mse_loss(feats[1], content_target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return canvas


def main():
    torch.manual_seed(0)
    vgg = nn.DataParallel(VGGSlices()).eval()
    vgg.module.requires_grad_(False)
    g = torch.Generator().manual_seed(0)
    content = torch.rand(1, 3, CFG["size"], CFG["size"], generator=g)
    style = torch.rand(1, 3, CFG["size"], CFG["size"], generator=g).pow(3)
    canvas = stylize(vgg, content, style, CFG)
    return {"canvas": canvas}, {"canvas_changed": not torch.equal(canvas.detach(), content)}

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
