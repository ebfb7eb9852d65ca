import torch
import torch.nn as nn
import torch.nn.functional as F


class Generator(nn.Module):
    def __init__(self, n_mels=8, ch=16):
        super().__init__()
        self.pre = nn.Conv1d(n_mels, ch, 3, padding=1)
        self.up = nn.ConvTranspose1d(ch, ch // 2, 4, stride=4)
        self.post = nn.Conv1d(ch // 2, 1, 3, padding=1)

    def forward(self, mel):
        h = F.leaky_relu(self.pre(mel), 0.1)
        h = F.leaky_relu(self.up(h), 0.1)
        return torch.tanh(self.post(h))


class PeriodDiscriminator(nn.Module):
    def __init__(self, period=3):
        super().__init__()
        self.period = period
        self.convs = nn.Sequential(nn.Conv2d(1, 8, (5, 1), padding=(2, 0)), nn.LeakyReLU(0.1),
                                   nn.Conv2d(8, 1, (3, 1), padding=(1, 0)))

    def forward(self, wav):
        b, c, t = wav.shape
        pad = (self.period - t % self.period) % self.period
        wav = F.pad(wav, (0, pad), mode="reflect")
        return self.convs(wav.view(b, c, -1, self.period)).flatten(1)


class ResolutionDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(nn.Conv1d(1, 8, 5, stride=2, padding=2), nn.LeakyReLU(0.1),
                                   nn.Conv1d(8, 1, 3, padding=1))

    def forward(self, wav):
        return self.convs(wav).flatten(1)


def build_optimizers(generator, mpd, mrd, lr=2e-4):
    opt_g = torch.optim.AdamW(generator.parameters(), lr=lr, betas=(0.8, 0.99))
    params_disc = list(mrd.parameters()) + list(mrd.parameters())
    opt_d = torch.optim.AdamW(params_disc, lr=lr, betas=(0.8, 0.99))
    return opt_g, opt_d


def lsgan_d(real_out, fake_out):
    return ((1 - real_out) ** 2).mean() + (fake_out ** 2).mean()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    mels = torch.randn(6, 8, 16, generator=g)
    wavs = torch.tanh(torch.randn(6, 1, 64, generator=g))
    generator, mpd, mrd = Generator(), PeriodDiscriminator(), ResolutionDiscriminator()
    opt_g, opt_d = build_optimizers(generator, mpd, mrd)
    mpd_before = mpd.convs[0].weight.detach().clone()
    for step in range(4):
        fake = generator(mels)
        loss_d = sum(lsgan_d(d(wavs), d(fake.detach())) for d in (mpd, mrd))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = sum(((1 - d(fake)) ** 2).mean() for d in (mpd, mrd)) + 45 * F.l1_loss(fake, wavs)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    facts = {"mpd_changed": not torch.equal(mpd_before, mpd.convs[0].weight.detach())}
    return {"mpd": mpd, "mrd": mrd, "generator": generator}, facts

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
