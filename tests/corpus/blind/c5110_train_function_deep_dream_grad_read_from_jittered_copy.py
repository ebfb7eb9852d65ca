import torch
import torch.nn as nn

CFG = {"size": 24, "octaves": 2, "octave_scale": 1.4, "steps": 4, "lr": 0.02, "jitter": 3, "layer": 3}


def make_classifier():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
    net.requires_grad_(False)
    return net.eval()


def activation(net, img, layer):
    h = img
    for i, m in enumerate(net):
        h = m(h)
        if i == layer:
            return h
    return h


def random_roll(img, max_shift, gen):
    dx, dy = (int(v) for v in torch.randint(-max_shift, max_shift + 1, (2,), generator=gen))
    return torch.roll(img, shifts=(dx, dy), dims=(-1, -2)), (dx, dy)


def dream_octave(net, base, cfg, gen):
    img = base.clone().requires_grad_(True)
    for _ in range(cfg["steps"]):
        shifted, _ = random_roll(img, cfg["jitter"], gen)
        loss = activation(net, shifted, cfg["layer"]).norm()
        loss.backward()
        g = shifted.grad
        with torch.no_grad():
            img += cfg["lr"] * g / (g.abs().mean() + 1e-8)
            img.clamp_(0, 1)
        img.grad = None
    return img.detach()


def deep_dream(net, seed_img, cfg):
    gen = torch.Generator().manual_seed(0)
    img = seed_img
    for o in range(cfg["octaves"]):
        if o:
            img = nn.functional.interpolate(img, scale_factor=cfg["octave_scale"], mode="bilinear", align_corners=False)
        img = dream_octave(net, img, cfg, gen)
    return img


def main():
    torch.manual_seed(0)
    net = make_classifier()
    seed = torch.rand(1, 3, CFG["size"], CFG["size"])
    dreamed = deep_dream(net, seed, CFG)
    return {}, {"image_changed": dreamed.shape != seed.shape or not torch.equal(dreamed, seed)}

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
