import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"size": 16, "style_weight": 1e3, "content_weight": 1.0, "tv_weight": 1e-3, "lr": 0.05, "steps": 8,
       "style_layers": (1, 3), "content_layer": 3}


def feature_extractor():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


def features(net, img, layers):
    out, h = {}, img
    for i, layer in enumerate(net):
        h = layer(h)
        if i in layers:
            out[i] = h
    return out


def gram(f):
    b, c, hgt, wid = f.shape
    f = f.view(b, c, hgt * wid)
    return f @ f.transpose(1, 2) / (c * hgt * wid)


def init_canvas(content):
    return content.clone().requires_grad_(True)


def stylize(net, content, style, cfg):
    layers = set(cfg["style_layers"]) | {cfg["content_layer"]}
    with torch.no_grad():
        style_grams = {i: gram(f) for i, f in features(net, style, cfg["style_layers"]).items()}
        content_feat = features(net, content, layers)[cfg["content_layer"]]
    canvas = init_canvas(content)
    optimizer = torch.optim.Adam([canvas], lr=cfg["lr"])
    for _ in range(cfg["steps"]):
        feats = features(net, canvas, layers)
        s_loss = sum(F.mse_loss(gram(feats[i]), style_grams[i]) for i in cfg["style_layers"])
        c_loss = F.mse_loss(feats[cfg["content_layer"]], content_feat)
        tv = (canvas[..., 1:, :] - canvas[..., :-1, :]).abs().mean() + (canvas[..., 1:] - canvas[..., :-1]).abs().mean()
        loss = cfg["style_weight"] * s_loss + cfg["content_weight"] * c_loss + cfg["tv_weight"] * tv
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            canvas.clamp_(0.0, 1.0)
    return canvas


def main():
    torch.manual_seed(0)
    net = feature_extractor()
    w0 = net[0].weight.detach().clone()
    content = torch.rand(1, 3, CFG["size"], CFG["size"])
    style = torch.rand(1, 3, CFG["size"], CFG["size"]) ** 2
    canvas = stylize(net, content, style, CFG)
    return {"canvas": canvas}, {
        "canvas_changed": not torch.equal(canvas.detach(), content),
        "extractor_changed": not torch.equal(w0, net[0].weight),
        "canvas_is_leaf": canvas.is_leaf,
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
