import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"latent": 16, "hop": 4, "frames": 8, "lr": 2e-4, "mel_weight": 45.0, "fm_weight": 2.0}


class WaveDecoder(nn.Module):
    """VITS-style decoder (HiFi-GAN generator): latent frames -> waveform."""

    def __init__(self, latent, hop):
        super().__init__()
        self.pre = nn.Conv1d(latent, 32, 7, padding=3)
        self.up = nn.ConvTranspose1d(32, 16, 2 * hop, stride=hop, padding=hop // 2)
        self.res = nn.Conv1d(16, 16, 3, padding=1)
        self.post = nn.Conv1d(16, 1, 7, padding=3)

    def forward(self, z):
        x = F.leaky_relu(self.up(F.leaky_relu(self.pre(z), 0.1)), 0.1)
        x = x + self.res(F.leaky_relu(x, 0.1))
        return torch.tanh(self.post(x))


class PeriodDiscriminator(nn.Module):
    def __init__(self, period):
        super().__init__()
        self.period = period
        self.convs = nn.ModuleList([nn.Conv2d(1, 8, (5, 1), (3, 1), padding=(2, 0)),
                                    nn.Conv2d(8, 16, (5, 1), (3, 1), padding=(2, 0))])
        self.out = nn.Conv2d(16, 1, (3, 1), padding=(1, 0))

    def forward(self, y):
        b, c, t = y.shape
        if t % self.period:
            y = F.pad(y, (0, self.period - t % self.period), mode="reflect")
        x = y.view(b, c, -1, self.period)
        fmap = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.1)
            fmap.append(x)
        return self.out(x).flatten(1), fmap


class VITSDecoderGAN(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.decoder = WaveDecoder(cfg["latent"], cfg["hop"])
        self.mpd = nn.ModuleList(PeriodDiscriminator(p) for p in (2, 3))

    def run_d(self, y):
        outs = [d(y) for d in self.mpd]
        return [o[0] for o in outs], [o[1] for o in outs]

    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        z, wav = batch
        wav_hat = self.decoder(z)
        real_scores, _ = self.run_d(wav)
        fake_scores, _ = self.run_d(wav_hat.detach())
        loss_d = sum(((1 - r) ** 2).mean() + (f ** 2).mean() for r, f in zip(real_scores, fake_scores))
        opt_d.zero_grad()
        self.manual_backward(loss_d)
        opt_d.step()
        _, real_fmaps = self.run_d(wav)
        fake_scores, fake_fmaps = self.run_d(wav_hat)
        loss_adv = sum(((1 - f) ** 2).mean() for f in fake_scores)
        loss_fm = sum(F.l1_loss(fg, fr.detach()) for rm, gm in zip(real_fmaps, fake_fmaps) for fr, fg in zip(rm, gm))
        loss_mel = F.l1_loss(wav_hat, wav)
        loss_g = loss_adv + self.cfg["fm_weight"] * loss_fm + self.cfg["mel_weight"] * loss_mel
        opt_g.zero_grad()
        self.manual_backward(loss_g)
        opt_g.step()
        self.log_dict({"loss_d": loss_d.item(), "loss_g": loss_g.item()})

    def configure_optimizers(self):
        betas = (0.8, 0.99)
        return [torch.optim.AdamW(self.decoder.parameters(), self.cfg["lr"], betas=betas),
                torch.optim.AdamW(self.mpd.parameters(), self.cfg["lr"], betas=betas)]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    z = torch.randn(16, CFG["latent"], CFG["frames"], generator=g)
    t = torch.arange(CFG["frames"] * CFG["hop"]).float()
    wav = torch.sin(t[None, None] * (0.2 + z[:, :1, :1].abs()))
    module = VITSDecoderGAN(CFG)
    g0 = module.decoder.pre.weight.detach().clone()
    d0 = module.mpd[0].convs[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, DataLoader(TensorDataset(z, wav), batch_size=8, shuffle=True, generator=g))
    return {"decoder": module.decoder}, {
        "generator_changed": not torch.equal(g0, module.decoder.pre.weight),
        "discriminator_changed": not torch.equal(d0, module.mpd[0].convs[0].weight),
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
