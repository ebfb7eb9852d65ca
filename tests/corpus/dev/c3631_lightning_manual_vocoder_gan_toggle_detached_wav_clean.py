import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class MelToWave(nn.Module):
    def __init__(self, n_mels=8, upsample=4):
        super().__init__()
        self.pre = nn.Conv1d(n_mels, 16, 3, 1, 1)
        self.up = nn.ConvTranspose1d(16, 8, upsample * 2, upsample, upsample // 2)
        self.post = nn.Conv1d(8, 1, 3, 1, 1)

    def forward(self, mel):
        return torch.tanh(self.post(F.leaky_relu(self.up(F.leaky_relu(self.pre(mel), 0.1)), 0.1)))


class PeriodDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(nn.Conv1d(1, 8, 5, 2, 2), nn.LeakyReLU(0.1), nn.Conv1d(8, 1, 3, 1, 1))

    def forward(self, wav):
        return self.convs(wav)


class Vocoder(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.generator = MelToWave()
        self.discriminator = PeriodDiscriminator()

    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        mel, wav = batch
        generated_wav = self.generator(mel)

        self.toggle_optimizer(opt_d)
        d_real = self.discriminator(wav)
        d_fake = self.discriminator(generated_wav.detach())
        loss_d = ((d_real - 1) ** 2).mean() + (d_fake ** 2).mean()
        opt_d.zero_grad()
        self.manual_backward(loss_d)
        opt_d.step()
        self.untoggle_optimizer(opt_d)

        self.toggle_optimizer(opt_g)
        loss_g = ((self.discriminator(generated_wav) - 1) ** 2).mean() + 45 * F.l1_loss(generated_wav, wav)
        opt_g.zero_grad()
        self.manual_backward(loss_g)
        opt_g.step()
        self.untoggle_optimizer(opt_g)

    def configure_optimizers(self):
        opt_g = torch.optim.AdamW(self.generator.parameters(), lr=2e-4, betas=(0.8, 0.99))
        opt_d = torch.optim.AdamW(self.discriminator.parameters(), lr=2e-4, betas=(0.8, 0.99))
        return [opt_g, opt_d]


def main():
    pl.seed_everything(0)
    mel = torch.randn(12, 8, 16)
    wav = torch.tanh(torch.randn(12, 1, 64))
    loader = DataLoader(TensorDataset(mel, wav), batch_size=4, shuffle=True)
    model = Vocoder()
    g0 = model.generator.pre.weight.detach().clone()
    d0 = model.discriminator.convs[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False).fit(model, loader)
    return {"generator": model.generator, "discriminator": model.discriminator}, {
        "generator_changed": not torch.equal(g0, model.generator.pre.weight),
        "discriminator_changed": not torch.equal(d0, model.discriminator.convs[0].weight),
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
