import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LearnableBandpass(nn.Module):
    """Band-pass filterbank with learnable cutoffs, applied in the frequency domain."""

    def __init__(self, n_filters=6, n_fft=64, sample_rate=8000):
        super().__init__()
        edges = torch.linspace(100, sample_rate / 2 - 400, n_filters + 1)
        self.low_hz = nn.Parameter(edges[:-1].clone())
        self.band_hz = nn.Parameter(torch.diff(edges))
        self.register_buffer("freqs", torch.fft.rfftfreq(n_fft, d=1.0 / sample_rate))
        self.n_fft = n_fft

    def masks(self):
        low = self.low_hz.abs()[:, None]
        high = low + self.band_hz.abs()[:, None]
        return ((self.freqs >= low) & (self.freqs <= high)).float()

    def forward(self, wave):
        frames = wave.unfold(-1, self.n_fft, self.n_fft // 2)
        spec = torch.fft.rfft(frames * torch.hann_window(self.n_fft), dim=-1).abs() ** 2
        return torch.log1p(torch.einsum("btf,kf->bkt", spec, self.masks()))


class SpeakerNet(nn.Module):
    def __init__(self, n_speakers=4):
        super().__init__()
        self.frontend = LearnableBandpass()
        self.conv = nn.Sequential(nn.Conv1d(6, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten())
        self.classifier = nn.Linear(16, n_speakers)

    def forward(self, wave):
        return self.classifier(self.conv(self.frontend(wave)))


def train(model, loader, epochs=2):
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for wave, spk in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(wave), spk).backward()
            optimizer.step()


def make_loader():
    g = torch.Generator().manual_seed(32)
    t = torch.arange(512) / 8000
    spk = torch.randint(0, 4, (24,), generator=g)
    wave = torch.sin(2 * math.pi * (300 + 700 * spk[:, None]) * t) + 0.3 * torch.randn(24, 512, generator=g)
    return DataLoader(TensorDataset(wave, spk), batch_size=6, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = SpeakerNet()
    low0 = model.frontend.low_hz.detach().clone()
    train(model, make_loader())
    return {"model": model}, {"cutoffs_changed": not torch.equal(low0, model.frontend.low_hz)}

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
