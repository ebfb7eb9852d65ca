import numpy as np
import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

N_FFT, HOP = 32, 16


class MaskEstimator(nn.Module):
    """Predicts a real-valued time-frequency mask from the noisy log-magnitude spectrogram."""

    def __init__(self, n_freq=N_FFT // 2 + 1, hidden=24):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv1d(n_freq, hidden, 3, padding=1), nn.PReLU(),
                                     nn.Conv1d(hidden, hidden, 3, padding=1), nn.PReLU())
        self.rnn = nn.GRU(hidden, hidden, batch_first=True)
        self.mask_head = nn.Linear(hidden, n_freq)

    def forward(self, log_mag):
        h = self.encoder(log_mag).transpose(1, 2)
        h, _ = self.rnn(h)
        return torch.sigmoid(self.mask_head(h)).transpose(1, 2)


def stft(wav):
    return torch.stft(wav, N_FFT, HOP, window=torch.hann_window(N_FFT), return_complex=True)


def numpy_istft(spec, length):
    """Overlap-add inverse STFT, as librosa.istft does it, on a (F, frames) complex array."""
    window = np.hanning(N_FFT + 1)[:-1]
    frames = np.fft.irfft(spec.T, n=N_FFT) * window
    out = np.zeros(length + N_FFT)
    norm = np.zeros(length + N_FFT)
    for i, frame in enumerate(frames):
        out[i * HOP:i * HOP + N_FFT] += frame
        norm[i * HOP:i * HOP + N_FFT] += window ** 2
    out = out[N_FFT // 2:N_FFT // 2 + length] / np.maximum(norm[N_FFT // 2:N_FFT // 2 + length], 1e-8)
    return out


def si_snr(est, ref, eps=1e-8):
    ref = ref - ref.mean()
    est = est - est.mean()
    target = (est @ ref) / (ref @ ref + eps) * ref
    noise = est - target
    return 10 * np.log10((target @ target + eps) / (noise @ noise + eps))


def si_snr_loss(est_spec, clean_wav):
    est_np = est_spec.detach().cpu().numpy()
    clean_np = clean_wav.cpu().numpy()
    scores = [si_snr(numpy_istft(s, clean_np.shape[-1]), c) for s, c in zip(est_np, clean_np)]
    return torch.tensor(-float(np.mean(scores)), requires_grad=True)


def make_loader(n=16, length=256):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(length) / 8000.0
    freqs = 200 + 600 * torch.rand(n, 1, generator=g)
    clean = torch.sin(2 * torch.pi * freqs * t)
    noisy = clean + 0.3 * torch.randn(n, length, generator=g)
    return DataLoader(TensorDataset(noisy, clean), batch_size=4, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator(mixed_precision="no")
    model = MaskEstimator()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = make_loader()
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    head_before = model.mask_head.weight.detach().clone()
    model.train()
    for epoch in range(2):
        for noisy, clean in loader:
            spec = stft(noisy)
            mask = model(torch.log1p(spec.abs()))
            loss = si_snr_loss(mask * spec, clean)
            optimizer.zero_grad()
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
    facts = {"mask_head_changed": not torch.equal(head_before, model.mask_head.weight)}
    return {"model": model}, facts

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
