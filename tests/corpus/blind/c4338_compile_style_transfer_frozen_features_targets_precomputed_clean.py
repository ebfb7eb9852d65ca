import torch
import torch.nn as nn
import torch.nn.functional as F

LAYERS = {"conv1": 1.0, "conv2": 0.75, "conv3": 0.5}


class VGGish(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.conv3 = nn.Conv2d(16, 16, 3, padding=1)

    def forward(self, x):
        f1 = F.relu(self.conv1(x))
        f2 = F.relu(self.conv2(F.avg_pool2d(f1, 2)))
        f3 = F.relu(self.conv3(F.avg_pool2d(f2, 2)))
        return {"conv1": f1, "conv2": f2, "conv3": f3}


def gram(f):
    b, c, h, w = f.shape
    f = f.reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def build_feature_net():
    torch.manual_seed(0)
    net = VGGish().eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return torch.compile(net, backend="eager")


def precompute_targets(features, content, style):
    with torch.no_grad():
        content_feat = features(content)["conv2"]
        style_grams = {k: gram(v) for k, v in features(style).items()}
    return content_feat, style_grams


def stylize(features, content, style, cfg):
    content_feat, style_grams = precompute_targets(features, content, style)
    image = content.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([image], lr=cfg["lr"])
    for step in range(cfg["steps"]):
        feats = features(image)
        style_loss = sum(w * F.mse_loss(gram(feats[k]), style_grams[k]) for k, w in LAYERS.items())
        content_loss = F.mse_loss(feats["conv2"], content_feat)
        loss = cfg["alpha"] * content_loss + cfg["beta"] * style_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            image.clamp_(0, 1)
    return image


def main():
    cfg = {"lr": 0.03, "steps": 6, "alpha": 1.0, "beta": 1e4}
    features = build_feature_net()
    g = torch.Generator().manual_seed(1)
    content = torch.rand(1, 3, 32, 32, generator=g)
    style = torch.rand(1, 3, 32, 32, generator=g).pow(3)
    image = stylize(features, content, style, cfg)
    return {"image": image}, {"image_changed": not torch.equal(image.detach(), content),
                              "feature_net_has_no_grads": all(p.grad is None for p in features.parameters())}

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
