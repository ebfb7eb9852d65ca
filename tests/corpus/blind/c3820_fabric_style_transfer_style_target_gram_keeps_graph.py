import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class FeatureExtractor(nn.Module):
    """Stands in for the truncated VGG: returns the activations the content and style losses read."""

    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.block2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.block3 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())

    def forward(self, x):
        f1 = self.block1(x)
        f2 = self.block2(f1)
        return [f1, f2, self.block3(f2)]


def gram_matrix(feat):
    b, c, h, w = feat.shape
    f = feat.view(b, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


class ContentLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = target_feature.detach()

    def forward(self, feat):
        return F.mse_loss(feat, self.target)


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = gram_matrix(target_feature)

    def forward(self, feat):
        return F.mse_loss(gram_matrix(feat), self.target)


def run_style_transfer(fabric, extractor, content_img, style_img, steps=6, style_weight=1e4):
    content_losses = [ContentLoss(extractor(content_img)[1])]
    style_losses = [StyleLoss(f) for f in extractor(style_img)]
    input_img = content_img.clone().requires_grad_(True)
    optimizer = fabric.setup_optimizers(torch.optim.Adam([input_img], lr=0.05))
    for _ in range(steps):
        feats = extractor(input_img)
        content_score = sum(cl(feats[1]) for cl in content_losses)
        style_score = sum(sl(f) for sl, f in zip(style_losses, feats))
        loss = content_score + style_weight * style_score
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        with torch.no_grad():
            input_img.clamp_(0, 1)
    return input_img


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    extractor = fabric.setup_module(FeatureExtractor())
    g = torch.Generator().manual_seed(0)
    content_img = torch.rand(1, 3, 16, 16, generator=g)
    style_img = torch.sin(torch.linspace(0, 12.0, 16))[None, None, None, :].expand(1, 3, 16, 16).abs().contiguous()
    output = run_style_transfer(fabric, extractor, content_img, style_img)
    return {"output": output}, {"image_changed": not torch.equal(output.detach(), content_img)}

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
