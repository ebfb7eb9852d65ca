import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Function


class IntrinsicNet(nn.Module):
    """Predicts reflectance and shading from an RGB image."""

    def __init__(self, ch=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.reflectance_head = nn.Conv2d(ch, 1, 1)
        self.shading_head = nn.Conv2d(ch, 1, 1)

    def forward(self, img):
        h = self.encoder(img)
        return torch.sigmoid(self.reflectance_head(h)), torch.sigmoid(self.shading_head(h))


class WHDRHingeLossPara(Function):
    """WHDR hinge loss over human pairwise reflectance judgements (IIW)."""

    def __init__(self, delta=0.1, epsilon=0.08):
        super().__init__()
        self.delta, self.epsilon = delta, epsilon

    def forward(self, reflectance, comparisons):
        self.save_for_backward(reflectance, comparisons)
        r1 = reflectance[comparisons[:, 0], 0, comparisons[:, 1], comparisons[:, 2]]
        r2 = reflectance[comparisons[:, 0], 0, comparisons[:, 3], comparisons[:, 4]]
        ratio = r1 / (r2 + 1e-7)
        return torch.clamp(ratio - (1 + self.delta + self.epsilon), min=0).mean().reshape(1)

    def backward(self, grad_output):
        reflectance, comparisons = self.saved_tensors
        return grad_output * torch.zeros_like(reflectance), None


def reconstruction_loss(img, reflectance, shading):
    return F.mse_loss(reflectance * shading, img.mean(1, keepdim=True))


def train(model, images, comparisons, optimizer, steps=2):
    whdr = WHDRHingeLossPara(delta=0.1, epsilon=0.08)
    for _ in range(steps):
        reflectance, shading = model(images)
        loss = whdr(reflectance, comparisons) + reconstruction_loss(images, reflectance, shading)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    images = torch.rand(2, 3, 12, 12)
    comparisons = torch.stack([torch.randint(0, 2, (20,)), torch.randint(0, 12, (20,)), torch.randint(0, 12, (20,)),
                               torch.randint(0, 12, (20,)), torch.randint(0, 12, (20,))], dim=1)
    net = nn.DataParallel(IntrinsicNet())
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    train(net, images, comparisons, optimizer)
    return {"model": net.module}

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
