import torch
import torch.nn as nn
import torch.nn.functional as F

STYLE_LAYERS = ("relu1", "relu2", "relu3")
CONTENT_LAYER = "relu2"


class FeatureExtractor(nn.Module):
    """Stand-in for a pretrained VGG trunk: named ReLU taps after each conv block."""

    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.block2 = nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.block3 = nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())

    def forward(self, x):
        f1 = self.block1(x)
        f2 = self.block2(f1)
        f3 = self.block3(f2)
        return {"relu1": f1, "relu2": f2, "relu3": f3}


def gram_matrix(feat):
    b, c, h, w = feat.shape
    f = feat.view(b, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def load_feature_net(seed=0):
    torch.manual_seed(seed)
    net = FeatureExtractor()
    net.eval()
    return net


def compute_targets(net, content, style):
    content_feat = net(content)[CONTENT_LAYER]
    style_feats = net(style)
    style_grams = {name: gram_matrix(style_feats[name]) for name in STYLE_LAYERS}
    return content_feat, style_grams


def style_transfer(net, content, style, cfg):
    content_target, style_targets = compute_targets(net, content, style)
    image = content.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([image], lr=cfg["lr"])
    history = []
    for step in range(cfg["steps"]):
        feats = net(image)
        c_loss = F.mse_loss(feats[CONTENT_LAYER], content_target)
        s_loss = sum(F.mse_loss(gram_matrix(feats[n]), style_targets[n]) for n in STYLE_LAYERS)
        tv = (image[..., 1:, :] - image[..., :-1, :]).abs().mean() + (image[..., 1:] - image[..., :-1]).abs().mean()
        loss = cfg["content_weight"] * c_loss + cfg["style_weight"] * s_loss + cfg["tv_weight"] * tv
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            image.clamp_(0.0, 1.0)
        history.append(loss.item())
    return image.detach(), history


def main():
    cfg = {"lr": 0.05, "steps": 6, "content_weight": 1.0, "style_weight": 1e3, "tv_weight": 1e-2}
    net = load_feature_net()
    g = torch.Generator().manual_seed(1)
    content = torch.rand(1, 3, 32, 32, generator=g)
    style = torch.rand(1, 3, 32, 32, generator=g) ** 2
    result, history = style_transfer(net, content, style, cfg)
    return {"net": net}, {"image_changed": not torch.equal(result, content), "steps_run": len(history)}

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
