import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ChangeGenerator(nn.Module):
    """Takes a pair of co-registered images and predicts a change map."""

    def __init__(self, ch=3, width=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(2 * ch, width, 3, padding=1), nn.BatchNorm2d(width), nn.LeakyReLU(0.2),
                                     nn.Conv2d(width, width, 3, padding=1), nn.LeakyReLU(0.2))
        self.decoder = nn.Sequential(nn.Conv2d(width, 1, 3, padding=1), nn.Sigmoid())

    def forward(self, t0, t1):
        return self.decoder(self.encoder(torch.cat([t0, t1], dim=1)))


class PatchCritic(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(width, 1, 4, stride=2, padding=1))

    def forward(self, change_map):
        return self.net(change_map)


class ChangeDetectionGAN(pl.LightningModule):
    def __init__(self, lr=2e-3, adv_weight=1.0):
        super().__init__()
        self.automatic_optimization = False
        self.generator = ChangeGenerator()
        self.critic = PatchCritic()
        self.lr, self.adv_weight = lr, adv_weight

    def _adv(self, logits, real):
        target = torch.ones_like(logits) if real else torch.zeros_like(logits)
        return F.binary_cross_entropy_with_logits(logits, target)

    def training_step(self, batch, batch_idx):
        t0, t1, label = batch
        opt_g, opt_d = self.optimizers()
        fake = self.generator(t0, t1)

        # critic: real change maps vs generated ones
        d_loss = self._adv(self.critic(label), True) + self._adv(self.critic(fake.detach()), False)
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()

        # generator: fool the critic
        pred_fake = self.critic(fake.detach())
        g_loss = self.adv_weight * self._adv(pred_fake, True)
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.log_dict({"d_loss": d_loss.item(), "g_loss": g_loss.item()})

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(self.critic.parameters(), lr=self.lr, betas=(0.5, 0.999))
        return [opt_g, opt_d]


def main():
    pl.seed_everything(0)
    t0, t1 = torch.rand(16, 3, 16, 16), torch.rand(16, 3, 16, 16)
    label = (torch.rand(16, 1, 16, 16) > 0.8).float()
    loader = DataLoader(TensorDataset(t0, t1, label), batch_size=4, shuffle=True)
    model = ChangeDetectionGAN()
    enc0 = model.generator.encoder[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model},
            {"generator_changed": not torch.equal(enc0, model.generator.encoder[0].weight)})

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
