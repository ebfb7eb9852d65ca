import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"size": 32, "noise_ratio": 0.3, "style_weight": 1e3, "content_weight": 1.0, "steps": 3,
       "style_layers": (0, 1, 2), "content_layer": 2}


class FeatureExtractor(nn.Module):
    """Stand-in for the truncated, frozen VGG-19 trunk (conv1_1 .. conv3_1)."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU()),
            nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU()),
            nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU()),
        ])
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, img):
        x = (img - self.mean) / self.std
        feats = []
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        return feats


def gram(f):
    b, c, h, w = f.shape
    f = f.reshape(b, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def init_canvas(content, cfg):
    """Start from the content photo with some noise mixed in."""
    noise = torch.rand(content.shape, requires_grad=True)
    return content * (1 - cfg["noise_ratio"]) + noise * cfg["noise_ratio"]


def run_style_transfer(extractor, content, style, cfg):
    with torch.no_grad():
        style_grams = [gram(f) for f in extractor(style)]
        content_target = extractor(content)[cfg["content_layer"]]
    canvas = init_canvas(content, cfg)
    optimizer = torch.optim.LBFGS([canvas], max_iter=4)

    def closure():
        optimizer.zero_grad()
        feats = extractor(canvas.clamp(0, 1))
        s_loss = sum(F.mse_loss(gram(feats[i]), style_grams[i]) for i in cfg["style_layers"])
        c_loss = F.mse_loss(feats[cfg["content_layer"]], content_target)
        loss = cfg["style_weight"] * s_loss + cfg["content_weight"] * c_loss
        loss.backward()
        return loss

    for _ in range(cfg["steps"]):
        optimizer.step(closure)
    return canvas


def main():
    torch.manual_seed(0)
    extractor = FeatureExtractor().eval().requires_grad_(False)
    g = torch.Generator().manual_seed(0)
    content = torch.rand(1, 3, CFG["size"], CFG["size"], generator=g)
    style = torch.rand(1, 3, CFG["size"], CFG["size"], generator=g).round()
    canvas = run_style_transfer(extractor, content, style, CFG)
    return {"canvas": canvas}

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
