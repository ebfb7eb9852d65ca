import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class UNetGenerator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(1, ch, 4, 2, 1), nn.LeakyReLU(0.2))
        self.up = nn.Sequential(nn.ConvTranspose2d(ch, ch, 4, 2, 1), nn.ReLU(), nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh())

    def forward(self, gray):
        return self.up(self.down(gray))


class PatchDiscriminator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(4, ch, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(ch, 1, 4, 1, 1))

    def forward(self, gray, color):
        return self.net(torch.cat([gray, color], dim=1))


class Colorizer(pl.LightningModule):
    def __init__(self, lr=2e-4, l1_weight=10.0):
        super().__init__()
        self.automatic_optimization = False
        self.G, self.D = UNetGenerator(), PatchDiscriminator()
        self.lr, self.l1_weight = lr, l1_weight

    def training_step(self, batch, batch_idx):
        gray, color = batch
        opt_g, opt_d = self.optimizers()
        fake = self.G(gray)

        self.toggle_optimizer(opt_d)
        real_logits, fake_logits = self.D(gray, color), self.D(gray, fake.detach())
        d_loss = 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                        + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        self.untoggle_optimizer(opt_d)

        self.toggle_optimizer(opt_g)
        pred = self.D(gray, fake)
        g_loss = F.binary_cross_entropy_with_logits(pred, torch.ones_like(pred)) + self.l1_weight * F.l1_loss(fake, color)
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_d.step()
        self.untoggle_optimizer(opt_g)
        self.log_dict({"d": d_loss.item(), "g": g_loss.item()})

    def configure_optimizers(self):
        return [torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=(0.5, 0.999)),
                torch.optim.Adam(self.D.parameters(), lr=self.lr, betas=(0.5, 0.999))]


def main():
    pl.seed_everything(0)
    color = torch.rand(12, 3, 8, 8) * 2 - 1
    gray = color.mean(dim=1, keepdim=True)
    model = Colorizer()
    g0 = model.G.down[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(
        model, DataLoader(TensorDataset(gray, color), batch_size=4, shuffle=True))
    return ({"model": model}, {"generator_changed": not torch.equal(g0, model.G.down[0].weight)})

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
