import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ResnetGenerator(nn.Module):
    def __init__(self, ch=3, width=16):
        super().__init__()
        self.head = nn.Conv2d(ch, width, 3, 1, 1)
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, 1, 1), nn.ReLU(), nn.Conv2d(width, width, 3, 1, 1))
        self.tail = nn.Conv2d(width, ch, 3, 1, 1)

    def forward(self, blurred):
        h = F.relu(self.head(blurred))
        return torch.clamp(blurred + self.tail(h + self.body(h)), -1, 1)


class NLayerDiscriminator(nn.Module):
    def __init__(self, ch=3, width=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(ch, width, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(width, 1, 4, 1, 1))

    def forward(self, x):
        return self.net(x)


class DeblurGAN(pl.LightningModule):
    def __init__(self, lambda_content=100.0):
        super().__init__()
        self.automatic_optimization = False
        self.netG = ResnetGenerator()
        self.netD = NLayerDiscriminator()
        self.lambda_content = lambda_content

    def adv(self, logits, real):
        target = torch.ones_like(logits) if real else torch.zeros_like(logits)
        return F.binary_cross_entropy_with_logits(logits, target)

    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        blurred, sharp = batch
        fake = self.netG(blurred)

        loss_d = 0.5 * (self.adv(self.netD(fake), False) + self.adv(self.netD(sharp), True))
        opt_d.zero_grad()
        self.manual_backward(loss_d)
        opt_d.step()

        loss_g = self.adv(self.netD(fake), True) + self.lambda_content * F.l1_loss(fake, sharp)
        opt_g.zero_grad()
        self.manual_backward(loss_g)
        opt_g.step()
        self.log_dict({"loss_d": loss_d, "loss_g": loss_g})

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.netG.parameters(), lr=1e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(self.netD.parameters(), lr=1e-4, betas=(0.5, 0.999))
        return [opt_g, opt_d]


def main():
    pl.seed_everything(0)
    sharp = torch.tanh(torch.randn(12, 3, 16, 16))
    blurred = F.avg_pool2d(sharp, 3, 1, 1)
    loader = DataLoader(TensorDataset(blurred, sharp), batch_size=4, shuffle=True)
    model = DeblurGAN()
    trainer = pl.Trainer(max_epochs=1, logger=False)
    trainer.fit(model, loader)
    return {"netG": model.netG, "netD": model.netD}

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
