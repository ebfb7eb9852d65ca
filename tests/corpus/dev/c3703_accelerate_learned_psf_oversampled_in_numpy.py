import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class LearnedPSF(nn.Module):
    """Coarse point-spread function of the optics, normalized to unit energy."""

    def __init__(self, size=3):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(size, size))

    def forward(self):
        return torch.softmax(self.logits.flatten(), dim=0).view_as(self.logits)


def oversample(psf, factor):
    """Nearest-neighbour oversampling of the PSF to the sensor grid (energy preserving)."""
    arr = psf.detach().cpu().numpy()
    up = np.kron(arr, np.ones((factor, factor), dtype=arr.dtype)) / factor ** 2
    return torch.from_numpy(up).to(psf.device)


class Restorer(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, 1, 3, padding=1))

    def forward(self, blurred):
        return blurred + self.net(blurred)


class ImagingSystem(nn.Module):
    def __init__(self, factor=3):
        super().__init__()
        self.psf = LearnedPSF()
        self.restorer = Restorer()
        self.factor = factor

    def simulate(self, sharp):
        kernel = oversample(self.psf(), self.factor)
        return F.conv2d(sharp, kernel[None, None], padding=kernel.shape[-1] // 2)

    def forward(self, sharp, measured):
        simulated = self.simulate(sharp)
        restored = self.restorer(measured)
        return F.mse_loss(simulated, measured) + F.mse_loss(restored, sharp)


def make_data(n=16):
    sharp = torch.rand(n, 1, 18, 18)
    r = torch.arange(9, dtype=torch.float32) - 4
    true_kernel = torch.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / 8.0)
    true_kernel = (true_kernel / true_kernel.sum())[None, None]
    measured = F.conv2d(sharp, true_kernel, padding=4)
    return DataLoader(TensorDataset(sharp, measured), batch_size=4, shuffle=True)


def main():
    set_seed(0)
    accelerator = Accelerator()
    system = ImagingSystem()
    optimizer = torch.optim.Adam(system.parameters(), lr=5e-2)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
    system, optimizer, loader, scheduler = accelerator.prepare(system, optimizer, make_data(), scheduler)
    psf0 = system.psf.logits.detach().clone()
    rest0 = system.restorer.net[0].weight.detach().clone()
    for _ in range(2):
        for sharp, measured in loader:
            optimizer.zero_grad()
            loss = system(sharp, measured)
            accelerator.backward(loss)
            optimizer.step()
        scheduler.step()
    return {"system": system}, {
        "psf_changed": not torch.equal(psf0, system.psf.logits),
        "restorer_changed": not torch.equal(rest0, system.restorer.net[0].weight),
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
