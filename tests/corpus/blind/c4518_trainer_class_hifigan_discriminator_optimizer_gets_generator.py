import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F

LRELU_SLOPE = 0.1
H = {
    "n_mels": 16, "upsample_rates": (4, 4), "upsample_kernel_sizes": (8, 8),
    "upsample_initial_channel": 32, "resblock_kernel_sizes": (3,), "resblock_dilations": ((1, 3),),
    "learning_rate": 2e-4, "adam_b1": 0.8, "adam_b2": 0.99, "lr_decay": 0.999, "lambda_mel": 45.0, "steps": 3,
}


class ResBlock1(nn.Module):
    def __init__(self, channels, kernel_size, dilations):
        super().__init__()
        self.convs1 = nn.ModuleList([nn.Conv1d(channels, channels, kernel_size, dilation=d,
                                               padding=(kernel_size * d - d) // 2) for d in dilations])
        self.convs2 = nn.ModuleList([nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
                                     for _ in dilations])

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = F.leaky_relu(x, LRELU_SLOPE)
            xt = c1(xt)
            xt = F.leaky_relu(xt, LRELU_SLOPE)
            xt = c2(xt)
            x = xt + x
        return x


class Generator(nn.Module):
    def __init__(self, h):
        super().__init__()
        ch = h["upsample_initial_channel"]
        self.conv_pre = nn.Conv1d(h["n_mels"], ch, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        for i, (u, k) in enumerate(zip(h["upsample_rates"], h["upsample_kernel_sizes"])):
            c_in, c_out = ch // (2 ** i), ch // (2 ** (i + 1))
            self.ups.append(nn.ConvTranspose1d(c_in, c_out, k, u, padding=(k - u) // 2))
            for ks, ds in zip(h["resblock_kernel_sizes"], h["resblock_dilations"]):
                self.resblocks.append(ResBlock1(c_out, ks, ds))
        self.num_kernels = len(h["resblock_kernel_sizes"])
        self.conv_post = nn.Conv1d(c_out, 1, 7, padding=3)

    def forward(self, mel):
        x = self.conv_pre(mel)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            xs = sum(self.resblocks[i * self.num_kernels + j](x) for j in range(self.num_kernels))
            x = xs / self.num_kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))


class PeriodDiscriminator(nn.Module):
    def __init__(self, period):
        super().__init__()
        self.period = period
        self.convs = nn.ModuleList([nn.Conv2d(1, 8, (5, 1), (3, 1), padding=(2, 0)),
                                    nn.Conv2d(8, 16, (5, 1), (3, 1), padding=(2, 0))])
        self.conv_post = nn.Conv2d(16, 1, (3, 1), padding=(1, 0))

    def forward(self, wav):
        b, c, t = wav.shape
        if t % self.period:
            wav = F.pad(wav, (0, self.period - t % self.period), "reflect")
        x = wav.view(b, c, -1, self.period)
        fmap = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            fmap.append(x)
        return self.conv_post(x).flatten(1), fmap


class MultiPeriodDiscriminator(nn.Module):
    def __init__(self, periods=(2, 3)):
        super().__init__()
        self.discriminators = nn.ModuleList([PeriodDiscriminator(p) for p in periods])

    def forward(self, real, fake):
        outs = [(d(real), d(fake)) for d in self.discriminators]
        return ([r[0] for r, _ in outs], [f[0] for _, f in outs],
                [r[1] for r, _ in outs], [f[1] for _, f in outs])


def mel_l1(fake, real):
    spec = lambda w: torch.stft(w.squeeze(1), 64, 16, window=torch.hann_window(64), return_complex=True).abs()
    return F.l1_loss(torch.log1p(spec(fake)), torch.log1p(spec(real)))


def discriminator_loss(real_scores, fake_scores):
    return sum(torch.mean((1 - r) ** 2) + torch.mean(f ** 2) for r, f in zip(real_scores, fake_scores))


def generator_loss(fake_scores):
    return sum(torch.mean((1 - f) ** 2) for f in fake_scores)


def feature_loss(fmaps_r, fmaps_f):
    return sum(F.l1_loss(a, b.detach()) for fr, ff in zip(fmaps_r, fmaps_f) for a, b in zip(ff, fr))


class HiFiGANTrainer:
    def __init__(self, h):
        self.h = h
        self.generator = Generator(h)
        self.mpd = MultiPeriodDiscriminator((2, 3))
        self.optim_g, self.optim_d = self.build_optimizers()
        self.sched_g = torch.optim.lr_scheduler.ExponentialLR(self.optim_g, gamma=h["lr_decay"])
        self.sched_d = torch.optim.lr_scheduler.ExponentialLR(self.optim_d, gamma=h["lr_decay"])

    def build_optimizers(self):
        betas = (self.h["adam_b1"], self.h["adam_b2"])
        optim_g = torch.optim.AdamW(self.generator.parameters(), self.h["learning_rate"], betas=betas)
        optim_d = torch.optim.AdamW(itertools.chain(self.generator.parameters()), self.h["learning_rate"], betas=betas)
        return optim_g, optim_d

    def train_step(self, mel, wav):
        fake = self.generator(mel)
        self.optim_d.zero_grad()
        real_scores, fake_scores, _, _ = self.mpd(wav, fake.detach())
        loss_d = discriminator_loss(real_scores, fake_scores)
        loss_d.backward()
        self.optim_d.step()

        self.optim_g.zero_grad()
        _, fake_scores, fmaps_r, fmaps_f = self.mpd(wav, fake)
        loss_g = generator_loss(fake_scores) + 2 * feature_loss(fmaps_r, fmaps_f) + self.h["lambda_mel"] * mel_l1(fake, wav)
        loss_g.backward()
        self.optim_g.step()
        return loss_g.item(), loss_d.item()

    def fit(self, batches):
        history = [self.train_step(mel, wav) for mel, wav in batches]
        self.sched_g.step()
        self.sched_d.step()
        return history


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    trainer = HiFiGANTrainer(H)
    batches = [(torch.randn(2, H["n_mels"], 8, generator=g), torch.randn(2, 1, 128, generator=g).clamp(-1, 1))
               for _ in range(H["steps"])]
    d0 = trainer.mpd.discriminators[0].convs[0].weight.detach().clone()
    g0 = trainer.generator.conv_pre.weight.detach().clone()
    trainer.fit(batches)
    return {"generator": trainer.generator, "mpd": trainer.mpd}, {
        "discriminator_changed": not torch.equal(d0, trainer.mpd.discriminators[0].convs[0].weight),
        "generator_changed": not torch.equal(g0, trainer.generator.conv_pre.weight),
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
