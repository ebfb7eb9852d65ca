import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class TinyDetector(nn.Module):
    """Stand-in for a frozen, pretrained person detector: objectness map over a grid."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.Conv2d(16, 16, 3, stride=2, padding=1), nn.ReLU())
        self.objectness = nn.Conv2d(16, 1, 1)

    def forward(self, x):
        return self.objectness(self.features(x)).sigmoid()


def apply_patch(images, patch, top=4, left=4):
    images = images.clone()
    s = patch.size(-1)
    images[:, :, top:top + s, left:left + s] = patch.clamp(0, 1)
    return images


def total_variation(p):
    return (p[..., 1:, :] - p[..., :-1, :]).abs().mean() + (p[..., :, 1:] - p[..., :, :-1]).abs().mean()


class PatchAttack:
    def __init__(self, fabric, detector, size=8, lr=0.03, tv_weight=0.1):
        self.fabric, self.detector, self.tv_weight = fabric, detector, tv_weight
        self.detector.requires_grad_(False).eval()
        patch = torch.rand(1, 3, size, size, requires_grad=True) * 0.5 + 0.25
        optimizer = torch.optim.Adam([patch], lr=lr)
        self.patch, self.optimizer = patch, fabric.setup_optimizers(optimizer)

    def step(self, images):
        score = self.detector(apply_patch(images, self.patch)).amax(dim=(1, 2, 3)).mean()
        loss = score + self.tv_weight * total_variation(self.patch)
        self.optimizer.zero_grad()
        self.fabric.backward(loss)
        self.optimizer.step()
        return score.item()


@torch.no_grad()
def detection_rate(detector, images, patch, threshold=0.5):
    clean = detector(images).amax(dim=(1, 2, 3)) > threshold
    attacked = detector(apply_patch(images, patch)).amax(dim=(1, 2, 3)) > threshold
    return clean.float().mean().item(), attacked.float().mean().item()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    detector = fabric.setup(TinyDetector())
    attack = PatchAttack(fabric, detector)
    images = torch.rand(8, 3, 32, 32)
    for _ in range(5):
        attack.step(images)
    detection_rate(detector, images, attack.patch)
    return {"patch": attack.patch}

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
