import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=8, d_out=12):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, 32), nn.ReLU(), nn.Linear(32, d_out))

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, d_in=12):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)


class SimpleGAN(pl.LightningModule):
    def __init__(self, z_dim=8, lr=2e-4):
        super().__init__()
        self.G = Generator(z_dim)
        self.D = Discriminator()
        self.z_dim = z_dim
        self.lr = lr
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        (real,) = batch
        g_opt, d_opt = self.optimizers()
        ones = torch.ones(real.shape[0], 1)
        zeros = torch.zeros(real.shape[0], 1)
        fake = self.G(torch.randn(real.shape[0], self.z_dim))

        d_opt.zero_grad()
        d_real = F.binary_cross_entropy_with_logits(self.D(real), ones)
        d_fake = F.binary_cross_entropy_with_logits(self.D(fake.detach()), zeros)
        self.manual_backward((d_real + d_fake) / 2)
        d_opt.step()

        g_opt.zero_grad()
        g_loss = F.binary_cross_entropy_with_logits(self.D(fake), ones)
        self.manual_backward(g_loss)
        g_opt.step()
        self.log_dict({"d_loss": (d_real + d_fake).item() / 2, "g_loss": g_loss.item()})

    def configure_optimizers(self):
        g_opt = torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=(0.5, 0.999))
        d_opt = torch.optim.Adam(self.D.parameters(), lr=self.lr, betas=(0.5, 0.999))
        return g_opt, d_opt


def make_loader(n=32, bs=8):
    g = torch.Generator().manual_seed(34)
    return DataLoader(TensorDataset(torch.randn(n, 12, generator=g) * 0.5 + 1.0), batch_size=bs, shuffle=True)


def main():
    pl.seed_everything(0)
    model = SimpleGAN()
    g0 = model.G.net[0].weight.detach().clone()
    d0 = model.D.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False).fit(model, make_loader())
    return {"G": model.G, "D": model.D}, {
        "generator_changed": not torch.equal(g0, model.G.net[0].weight),
        "discriminator_changed": not torch.equal(d0, model.D.net[0].weight),
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
