import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    """1-D 'vocoder' generator: mel frames -> waveform chunk."""

    def __init__(self, n_mels=8, hop=8):
        super().__init__()
        self.net = nn.Sequential(nn.ConvTranspose1d(n_mels, 16, hop, stride=hop), nn.LeakyReLU(0.1),
                                 nn.Conv1d(16, 1, 7, padding=3), nn.Tanh())

    def forward(self, mel):
        return self.net(mel)


class PeriodDiscriminator(nn.Module):
    def __init__(self, period):
        super().__init__()
        self.period = period
        self.convs = nn.Sequential(nn.Conv2d(1, 8, (5, 1), stride=(3, 1), padding=(2, 0)), nn.LeakyReLU(0.1),
                                   nn.Conv2d(8, 1, (3, 1), padding=(1, 0)))

    def forward(self, wav):
        b, c, t = wav.shape
        return self.convs(wav.view(b, c, t // self.period, self.period)).flatten(1)


class ScaleDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(nn.Conv1d(1, 8, 15, padding=7), nn.LeakyReLU(0.1), nn.Conv1d(8, 1, 3, padding=1))

    def forward(self, wav):
        return self.convs(wav).flatten(1)


class VocoderGAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.generator = Generator()
        self.mpd = nn.ModuleList(PeriodDiscriminator(p) for p in (2, 4))
        self.msd = ScaleDiscriminator()

    def discriminate(self, wav):
        return [d(wav) for d in self.mpd] + [self.msd(wav)]


def build_optimizers(model, lr=2e-4):
    opt_g = torch.optim.AdamW(model.generator.parameters(), lr=lr, betas=(0.8, 0.99))
    params_disc = list(model.msd.parameters()) + list(model.msd.parameters())
    opt_d = torch.optim.AdamW(params_disc, lr=lr, betas=(0.8, 0.99))
    return opt_g, opt_d


def train_step(model, opt_g, opt_d, mel, wav):
    fake = model.generator(mel)
    d_loss = sum(F.mse_loss(r, torch.ones_like(r)) + F.mse_loss(f, torch.zeros_like(f))
                 for r, f in zip(model.discriminate(wav), model.discriminate(fake.detach())))
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_loss = sum(F.mse_loss(f, torch.ones_like(f)) for f in model.discriminate(fake)) + 45 * F.l1_loss(fake, wav)
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    mel = torch.randn(16, 8, 6, generator=g)
    wav = torch.tanh(torch.randn(16, 1, 48, generator=g))
    loader = DataLoader(TensorDataset(mel, wav), batch_size=8, shuffle=True, generator=g)
    model = VocoderGAN()
    opt_g, opt_d = build_optimizers(model)
    before = model.mpd[0].convs[0].weight.detach().clone()
    for _ in range(2):
        for mel_b, wav_b in loader:
            train_step(model, opt_g, opt_d, mel_b, wav_b)
    return {"model": model}, {"mpd_changed": not torch.equal(before, model.mpd[0].convs[0].weight)}

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
