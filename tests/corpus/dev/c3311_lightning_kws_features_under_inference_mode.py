import math

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

SR, N_FFT, HOP, N_MELS = 4000, 64, 32, 16


def mel_filterbank(n_freqs=N_FFT // 2 + 1, n_mels=N_MELS):
    edges = torch.linspace(0, n_freqs - 1, n_mels + 2)
    bins = torch.arange(n_freqs).float()
    lower, center, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (bins - lower) / (center - lower)
    down = (upper - bins) / (upper - center)
    return torch.clamp(torch.minimum(up, down), min=0.0)


class KeywordSpotter(pl.LightningModule):
    def __init__(self, n_keywords=5, channels=24, lr=2e-3):
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT))
        self.register_buffer("fbank", mel_filterbank())
        self.encoder = nn.Sequential(
            nn.Conv1d(N_MELS, channels, 3, padding=1), nn.BatchNorm1d(channels), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, padding=1, groups=4), nn.BatchNorm1d(channels), nn.ReLU())
        self.gru = nn.GRU(channels, channels, batch_first=True)
        self.classifier = nn.Linear(channels, n_keywords)
        self.lr = lr

    @torch.inference_mode()
    def featurize(self, wav):
        spec = torch.stft(wav, N_FFT, HOP, window=self.window, return_complex=True).abs() ** 2
        logmel = torch.log(torch.matmul(self.fbank, spec) + 1e-6)
        return (logmel - logmel.mean(-1, keepdim=True)) / (logmel.std(-1, keepdim=True) + 1e-5)

    def forward(self, wav):
        h = self.encoder(self.featurize(wav)).transpose(1, 2)
        out, _ = self.gru(h)
        return self.classifier(out[:, -1])

    def training_step(self, batch, batch_idx):
        wav, y = batch
        loss = F.cross_entropy(self(wav), y)
        self.log("train_loss", loss)
        return loss

    def predict_step(self, batch, batch_idx):
        return self(batch[0]).argmax(-1)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return [opt], [torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)]


def keyword_clips(n=20, seconds=0.25):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(int(SR * seconds)) / SR
    y = torch.randint(0, 5, (n,), generator=g)
    freqs = 300.0 + 250.0 * y.float()
    wav = torch.sin(2 * math.pi * freqs[:, None] * t) + 0.3 * torch.randn(n, t.numel(), generator=g)
    return TensorDataset(wav, y)


def main():
    pl.seed_everything(0)
    model = KeywordSpotter()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(keyword_clips(), batch_size=5, shuffle=True))
    return {"model": model}

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
