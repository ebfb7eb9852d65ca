import torch
import torch.nn as nn
import torch.nn.functional as F


class TargetClassifier(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


def apply_patch(images, patch, y0=2, x0=2):
    mask = torch.zeros_like(images)
    mask[:, :, y0:y0 + patch.shape[-2], x0:x0 + patch.shape[-1]] = 1.0
    canvas = F.pad(patch, (x0, images.shape[-1] - x0 - patch.shape[-1],
                           y0, images.shape[-2] - y0 - patch.shape[-2]))
    return images * (1 - mask) + canvas * mask


class UniversalPatchAttack:
    """Targeted universal patch, kept in [0, 1] through a sigmoid parametrisation."""

    def __init__(self, model, target_class, size=6, step_size=0.05):
        self.model = model.eval().requires_grad_(False)
        self.target = target_class
        self.step_size = step_size
        self.raw = torch.zeros(1, 3, size, size, requires_grad=True)
        self.patch = torch.sigmoid(4 * self.raw)

    def step(self, images):
        adv = apply_patch(images, self.patch)
        target = torch.full((images.shape[0],), self.target, dtype=torch.long)
        loss = F.cross_entropy(self.model(adv), target)
        loss.backward()
        with torch.no_grad():
            self.patch -= self.step_size * self.patch.grad.sign()
            self.patch.clamp_(0, 1)
        return loss.item()


def main():
    torch.manual_seed(0)
    model = TargetClassifier()
    attack = UniversalPatchAttack(model, target_class=3)
    images = torch.rand(8, 3, 16, 16)
    for _ in range(3):
        attack.step(images)
    return {"raw": attack.raw}

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
