import numpy as np
import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class MaskEstimator(nn.Module):
    """Predicts a magnitude mask over STFT-like frames (frames x bins)."""

    def __init__(self, bins=16, hidden=32):
        super().__init__()
        self.rnn = nn.GRU(bins, hidden, batch_first=True)
        self.mask = nn.Sequential(nn.Linear(hidden, bins), nn.Sigmoid())

    def forward(self, noisy_mag):
        h, _ = self.rnn(noisy_mag)
        return self.mask(h) * noisy_mag


def segmental_snr_np(clean, enhanced, eps=1e-8):
    """Host-side perceptual proxy (like a PESQ / segSNR wrapper around a C implementation)."""
    num = (clean ** 2).sum(axis=-1)
    den = ((clean - enhanced) ** 2).sum(axis=-1) + eps
    seg = 10 * np.log10(num / den + eps)
    return np.clip(seg, -10, 35).mean(axis=-1)


class PerceptualLoss(nn.Module):
    def forward(self, enhanced, clean):
        scores = segmental_snr_np(clean.detach().cpu().numpy(), enhanced.detach().cpu().numpy())
        return torch.tensor(-scores.mean(), dtype=torch.float32, requires_grad=True)


def train(accelerator, model, criterion, optimizer, scheduler, loader, epochs=2):
    model.train()
    for _ in range(epochs):
        for noisy, clean in loader:
            enhanced = model(noisy)
            loss = criterion(enhanced, clean)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
    return loss.item()


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    clean = torch.rand(24, 10, 16, generator=g)
    noisy = clean + 0.3 * torch.rand(24, 10, 16, generator=g)
    loader = DataLoader(TensorDataset(noisy, clean), batch_size=6, shuffle=True, generator=g)
    model = MaskEstimator()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    w0 = model.mask[0].weight.detach().clone()
    train(accelerator, model, PerceptualLoss(), optimizer, scheduler, loader)
    return {"model": model}, {"mask_head_changed": not torch.equal(w0, model.mask[0].weight)}

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
