import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Spectrogram(nn.Module):
    def __init__(self, n_fft=64, hop=16):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, wav):
        spec = torch.stft(wav, self.n_fft, self.hop, window=self.window, return_complex=True)
        return spec.abs().transpose(1, 2)  # (batch, frames, bins)


class OpenUnmixLite(nn.Module):
    def __init__(self, bins=33, hidden=24, momentum=0.1):
        super().__init__()
        self.register_buffer("input_mean", torch.zeros(bins))
        self.register_buffer("input_scale", torch.ones(bins))
        self.momentum = momentum
        self.fc_in = nn.Linear(bins, hidden)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
        self.fc_out = nn.Linear(2 * hidden, bins)
        self.output_scale = nn.Parameter(torch.ones(bins))

    @torch.no_grad()
    def update_scaler(self, mag):
        flat = mag.detach().reshape(-1, mag.shape[-1])
        self.input_mean.mul_(1 - self.momentum).add_(self.momentum * flat.mean(0))
        self.input_scale.mul_(1 - self.momentum).add_(self.momentum * flat.std(0).clamp_min(1e-5))

    def forward(self, mix_mag):
        if self.training:
            self.update_scaler(mix_mag)
        x = (mix_mag - self.input_mean) / self.input_scale
        h = torch.tanh(self.fc_in(x))
        out, _ = self.lstm(h)
        mask = F.relu(self.fc_out(torch.cat([h, out], dim=-1)) * self.output_scale)
        return mask * mix_mag


class SeparationModule(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.spec = Spectrogram()
        self.separator = OpenUnmixLite()

    def training_step(self, batch, batch_idx):
        mix, vocals = batch
        est = self.separator(self.spec(mix))
        loss = F.mse_loss(est, self.spec(vocals))
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.separator.parameters(), lr=1e-3)


def make_pairs(n=16, length=512):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(length) / 8000.0
    vocals = torch.sin(2 * torch.pi * 440 * t) * torch.rand(n, 1, generator=g)
    accomp = 0.3 * torch.randn(n, length, generator=g)
    return TensorDataset(vocals + accomp, vocals)


def main():
    pl.seed_everything(0)
    module = SeparationModule()
    mean0 = module.separator.input_mean.clone()
    loader = DataLoader(make_pairs(), batch_size=8, shuffle=True)
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(module, loader)
    sep = module.separator
    return ({"separator": sep},
            {"scaler_updated": not torch.equal(mean0, sep.input_mean),
             "buffers_are_parameters": any(n.startswith("input_") for n, _ in sep.named_parameters())})

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
