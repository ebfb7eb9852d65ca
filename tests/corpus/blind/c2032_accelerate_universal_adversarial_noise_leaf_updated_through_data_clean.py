import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class FrozenCaptionScorer(nn.Module):
    """Stand-in for an aligned vision-language model: scores how likely a harmful target caption is."""

    def __init__(self):
        super().__init__()
        self.vision = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.GELU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.text_head = nn.Linear(8, 10)

    def forward(self, images):
        return self.text_head(self.vision(images))


def normalize(x):
    return (x - 0.5) / 0.25


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = FrozenCaptionScorer().eval()
    model.requires_grad_(False)
    images = torch.rand(16, 3, 8, 8)
    loader = DataLoader(TensorDataset(images), batch_size=4, shuffle=True)
    model, loader = accelerator.prepare(model, loader)
    epsilon, alpha, target = 16 / 255, 1 / 255, 3
    adv_noise = torch.rand(1, 3, 8, 8) * 2 * epsilon - epsilon
    adv_noise.requires_grad_(True)
    noise0 = adv_noise.detach().clone()
    for epoch in range(2):
        for (x,) in loader:
            x_adv = (x + adv_noise).clamp(0, 1)
            loss = F.cross_entropy(model(normalize(x_adv)), torch.full((x.size(0),), target))
            accelerator.backward(loss)
            adv_noise.data = (adv_noise.data - alpha * adv_noise.grad.detach().sign()).clamp(-epsilon, epsilon)
            adv_noise.grad.zero_()
    accelerator.backward(F.cross_entropy(model(normalize((x + adv_noise).clamp(0, 1))), torch.full((x.size(0),), target)))
    return ({"adv_noise": adv_noise, "model": model},
            {"noise_changed": not torch.equal(noise0, adv_noise.detach()),
             "noise_is_leaf": adv_noise.is_leaf})

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
