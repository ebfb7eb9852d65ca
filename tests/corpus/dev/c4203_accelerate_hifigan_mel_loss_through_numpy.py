import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ResBlock(nn.Module):
    def __init__(self, ch, dilation):
        super().__init__()
        self.conv = nn.Conv1d(ch, ch, 3, padding=dilation, dilation=dilation)

    def forward(self, x):
        return x + self.conv(F.leaky_relu(x, 0.1))


class HiFiGenerator(nn.Module):
    def __init__(self, n_mels, ch, upsample):
        super().__init__()
        self.pre = nn.Conv1d(n_mels, ch, 7, padding=3)
        self.up = nn.ConvTranspose1d(ch, ch // 2, 2 * upsample, stride=upsample, padding=upsample // 2)
        self.mrf = nn.ModuleList([ResBlock(ch // 2, d) for d in (1, 3)])
        self.post = nn.Conv1d(ch // 2, 1, 7, padding=3)

    def forward(self, mel):
        x = self.up(F.leaky_relu(self.pre(mel), 0.1))
        x = sum(block(x) for block in self.mrf) / len(self.mrf)
        return torch.tanh(self.post(F.leaky_relu(x, 0.1)))


class PeriodDiscriminator(nn.Module):
    def __init__(self, period):
        super().__init__()
        self.period = period
        self.convs = nn.Sequential(nn.Conv2d(1, 8, (5, 1), (3, 1), padding=(2, 0)), nn.LeakyReLU(0.1),
                                   nn.Conv2d(8, 1, (3, 1), padding=(1, 0)))

    def forward(self, wav):
        b, c, t = wav.shape
        return self.convs(wav.view(b, c, t // self.period, self.period)).flatten(1)


def mel_filterbank(n_fft, n_mels):
    fb = torch.rand(n_mels, n_fft // 2 + 1, generator=torch.Generator().manual_seed(1))
    return fb / fb.sum(-1, keepdim=True)


def mel_spectrogram(audio, n_fft, hop, mel_basis):
    x = audio.squeeze(1).detach().cpu().numpy()
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft, axis=-1)[..., ::hop, :]
    spec = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=-1))
    return torch.from_numpy(np.log(np.clip(spec @ mel_basis.numpy().T, 1e-5, None))).float()


def train_one_epoch(gen, disc, loader, opt_g, opt_d, accelerator, cfg, step):
    for mel, wav in loader:
        fake = gen(mel)
        if step >= cfg["disc_start_step"]:
            d_loss = (1 - disc(wav)).pow(2).mean() + disc(fake.detach()).pow(2).mean()
            opt_d.zero_grad()
            accelerator.backward(d_loss)
            opt_d.step()
        mel_fake = mel_spectrogram(fake, cfg["n_fft"], cfg["hop"], cfg["mel_basis"])
        mel_real = mel_spectrogram(wav, cfg["n_fft"], cfg["hop"], cfg["mel_basis"])
        g_loss = cfg["lambda_mel"] * F.l1_loss(mel_fake, mel_real)
        if step >= cfg["disc_start_step"]:
            g_loss = g_loss + (1 - disc(fake)).pow(2).mean()
        opt_g.zero_grad()
        accelerator.backward(g_loss)
        opt_g.step()
        step += 1
    return step


def vocoder_loader(n=8, n_mels=8, frames=8, upsample=4):
    g = torch.Generator().manual_seed(0)
    wav = torch.tanh(torch.randn(n, 1, frames * upsample, generator=g))
    mel = torch.randn(n, n_mels, frames, generator=g)
    return DataLoader(TensorDataset(mel, wav), batch_size=4)


def main():
    set_seed(0)
    cfg = {"n_fft": 8, "hop": 4, "lambda_mel": 45.0, "disc_start_step": 1000}
    cfg["mel_basis"] = mel_filterbank(cfg["n_fft"], 8)
    accelerator = Accelerator()
    gen, disc = HiFiGenerator(8, 16, 4), PeriodDiscriminator(2)
    opt_g = torch.optim.AdamW(gen.parameters(), lr=2e-4, betas=(0.8, 0.99))
    opt_d = torch.optim.AdamW(disc.parameters(), lr=2e-4, betas=(0.8, 0.99))
    gen, disc, opt_g, opt_d, loader = accelerator.prepare(gen, disc, opt_g, opt_d, vocoder_loader())
    pre0 = gen.pre.weight.detach().clone()
    step = 0
    for _ in range(2):
        step = train_one_epoch(gen, disc, loader, opt_g, opt_d, accelerator, cfg, step)
    return {"gen": gen}, {"generator_changed": not torch.equal(pre0, gen.pre.weight)}

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
