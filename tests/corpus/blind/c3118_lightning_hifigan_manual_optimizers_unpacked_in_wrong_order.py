import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, n_mels=8, ch=16):
        super().__init__()
        self.conv_pre = nn.Conv1d(n_mels, ch, 7, padding=3)
        self.up = nn.ConvTranspose1d(ch, ch // 2, 8, stride=4, padding=2)
        self.res = nn.Conv1d(ch // 2, ch // 2, 3, padding=1)
        self.conv_post = nn.Conv1d(ch // 2, 1, 7, padding=3)

    def forward(self, mel):
        x = F.leaky_relu(self.up(F.leaky_relu(self.conv_pre(mel), 0.1)), 0.1)
        x = x + self.res(F.leaky_relu(x, 0.1))
        return torch.tanh(self.conv_post(x))


class PeriodDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(nn.Conv1d(1, 8, 5, stride=2, padding=2), nn.LeakyReLU(0.1),
                                   nn.Conv1d(8, 8, 5, stride=2, padding=2), nn.LeakyReLU(0.1), nn.Conv1d(8, 1, 3, padding=1))

    def forward(self, wav):
        return self.convs(wav)


class HiFiGAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.generator, self.discriminator = Generator(), PeriodDiscriminator()
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        mel, wav = batch
        opt_g, opt_d = self.optimizers()
        fake = self.generator(mel)
        d_loss = ((self.discriminator(wav) - 1) ** 2).mean() + (self.discriminator(fake.detach()) ** 2).mean()
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        torch.nn.utils.clip_grad_norm_(self.discriminator.parameters(), 5.0)
        opt_d.step()
        g_adv = ((self.discriminator(fake) - 1) ** 2).mean()
        g_loss = g_adv + 45.0 * F.l1_loss(fake, wav)
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.log_dict({"d_loss": d_loss.item(), "g_loss": g_loss.item()})

    def configure_optimizers(self):
        opt_d = torch.optim.AdamW(self.discriminator.parameters(), lr=2e-4, betas=(0.8, 0.99))
        opt_g = torch.optim.AdamW(self.generator.parameters(), lr=2e-4, betas=(0.8, 0.99))
        return [opt_d, opt_g]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(8, 8, 16, generator=g), torch.rand(8, 1, 64, generator=g) * 2 - 1),
                        batch_size=4, shuffle=True, generator=g)
    model = HiFiGAN()
    g0, d0 = model.generator.conv_pre.weight.detach().clone(), model.discriminator.convs[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    facts = {"generator_changed": not torch.equal(g0, model.generator.conv_pre.weight),
             "discriminator_changed": not torch.equal(d0, model.discriminator.convs[0].weight)}
    return {"generator": model.generator}, facts

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
