import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class MRFBlock(nn.Module):
    def __init__(self, ch, dilations=(1, 3)):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(ch, ch, 3, padding=d, dilation=d) for d in dilations])

    def forward(self, x):
        for conv in self.convs:
            y = conv(x)
            F.leaky_relu_(y, 0.1)
            x = x + y
        return x


class Generator(nn.Module):
    def __init__(self, n_mels=8, ch=16, upsample=4):
        super().__init__()
        self.pre = nn.Conv1d(n_mels, ch, 7, padding=3)
        self.up = nn.ConvTranspose1d(ch, ch // 2, 2 * upsample, stride=upsample, padding=upsample // 2)
        self.mrf = MRFBlock(ch // 2)
        self.post = nn.Conv1d(ch // 2, 1, 7, padding=3)

    def forward(self, mel):
        x = self.mrf(self.up(F.leaky_relu(self.pre(mel), 0.1)))
        return torch.tanh(self.post(F.leaky_relu(x, 0.1)))


class ScaleDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(1, 8, 5, 2, 2), nn.Conv1d(8, 8, 5, 2, 2)])
        self.out = nn.Conv1d(8, 1, 3, padding=1)

    def forward(self, wav):
        fmaps, x = [], wav
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.1)
            fmaps.append(x)
        return self.out(x).flatten(1), fmaps


def mel_spectrogram(audio, n_fft, hop, mel_basis):
    spec = torch.stft(audio.squeeze(1), n_fft, hop_length=hop, window=torch.hann_window(n_fft), center=False, return_complex=True)
    return torch.log(torch.clamp(mel_basis @ spec.abs(), min=1e-5))


def train_one_epoch(gen, disc, loader, opt_g, opt_d, accelerator, cfg):
    for mel, wav in loader:
        fake = gen(mel)
        real_logits, _ = disc(wav)
        fake_logits, _ = disc(fake.detach())
        d_loss = (1 - real_logits).pow(2).mean() + fake_logits.pow(2).mean()
        opt_d.zero_grad()
        accelerator.backward(d_loss)
        opt_d.step()
        fake_logits, fake_maps = disc(fake)
        with torch.no_grad():
            _, real_maps = disc(wav)
        fm = sum(F.l1_loss(f, r) for f, r in zip(fake_maps, real_maps))
        mel_l1 = F.l1_loss(mel_spectrogram(fake, cfg["n_fft"], cfg["hop"], cfg["mel_basis"]),
                           mel_spectrogram(wav, cfg["n_fft"], cfg["hop"], cfg["mel_basis"]))
        g_loss = (1 - fake_logits).pow(2).mean() + 2.0 * fm + cfg["lambda_mel"] * mel_l1
        opt_g.zero_grad()
        accelerator.backward(g_loss)
        opt_g.step()


def libritts_like(n=8, n_mels=8, frames=8, upsample=4):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(n, n_mels, frames, generator=g),
                                    torch.tanh(torch.randn(n, 1, frames * upsample, generator=g))), batch_size=4)


def main():
    set_seed(0)
    fb = torch.rand(8, 5, generator=torch.Generator().manual_seed(1))
    cfg = {"n_fft": 8, "hop": 4, "lambda_mel": 45.0, "mel_basis": fb / fb.sum(-1, keepdim=True)}
    accelerator = Accelerator()
    gen, disc = Generator(), ScaleDiscriminator()
    opt_g = torch.optim.AdamW(gen.parameters(), lr=2e-4, betas=(0.8, 0.99))
    opt_d = torch.optim.AdamW(disc.parameters(), lr=2e-4, betas=(0.8, 0.99))
    gen, disc, opt_g, opt_d, loader = accelerator.prepare(gen, disc, opt_g, opt_d, libritts_like())
    g0, d0 = gen.pre.weight.detach().clone(), disc.out.weight.detach().clone()
    for _ in range(2):
        train_one_epoch(gen, disc, loader, opt_g, opt_d, accelerator, cfg)
    return {"gen": gen, "disc": disc}, {
        "generator_changed": not torch.equal(g0, gen.pre.weight),
        "discriminator_changed": not torch.equal(d0, disc.out.weight),
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
