import numpy as np
import torch
import torch.nn.functional as F

CFG = {"n": 40, "img": 20, "lr": 1e-2, "iters": 20, "init_scale": 0.12}


def load_sfm_points(n, seed=0):
    """Sparse point cloud from a structure-from-motion run (float64, as numpy returns it)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-1, 1, size=(n, 2))
    rgb = rng.uniform(0, 1, size=(n, 3))
    return xy, rgb


def init_gaussians(points_xy, colors, cfg):
    means = torch.tensor(points_xy, requires_grad=True).float()
    log_scales = torch.full((len(points_xy), 2), float(np.log(cfg["init_scale"])), requires_grad=True)
    color_logits = torch.logit(torch.tensor(colors, dtype=torch.float32).clamp(0.05, 0.95)).requires_grad_()
    return {"means": means, "log_scales": log_scales, "colors": color_logits}


def render(g, pix):
    d = pix[:, None, :] - g["means"][None]
    w = torch.exp(-0.5 * (d / g["log_scales"].exp()[None]).pow(2).sum(-1))
    return (w @ torch.sigmoid(g["colors"])) / (w.sum(-1, keepdim=True) + 1e-3)


def fit(gaussians, target, pix, cfg):
    optimizer = torch.optim.Adam([
        {"params": [gaussians["means"]], "lr": cfg["lr"] * 0.5},
        {"params": [gaussians["log_scales"], gaussians["colors"]], "lr": cfg["lr"]},
    ])
    for _ in range(cfg["iters"]):
        loss = F.l1_loss(render(gaussians, pix), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return gaussians


def main():
    torch.manual_seed(0)
    H = CFG["img"]
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, H), torch.linspace(-1, 1, H), indexing="ij")
    pix = torch.stack([xs, ys], -1).reshape(-1, 2)
    target = torch.stack([(xs > 0).float(), (ys > 0).float(), (xs * ys > 0).float()], -1).reshape(-1, 3)
    xy, rgb = load_sfm_points(CFG["n"])
    gaussians = fit(init_gaussians(xy, rgb, CFG), target, pix, CFG)
    return {"means": gaussians["means"], "colors": gaussians["colors"]}

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
