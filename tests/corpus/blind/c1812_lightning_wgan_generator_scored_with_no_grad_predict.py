import lightning.pytorch as pl
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=8, out_dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, 32), nn.ReLU(), nn.Linear(32, out_dim))

    def forward(self, z):
        return self.net(z)


class Critic(nn.Module):
    def __init__(self, in_dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)

    @torch.no_grad()
    def predict(self, x):
        return self.net(x)


class WGAN(pl.LightningModule):
    def __init__(self, z_dim=8, n_critic=2, clip=0.05):
        super().__init__()
        self.generator, self.critic = Generator(z_dim), Critic()
        self.z_dim, self.n_critic, self.clip = z_dim, n_critic, clip
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_c = self.optimizers()
        z = torch.randn(real.size(0), self.z_dim)
        fake = self.generator(z)
        c_loss = self.critic(fake.detach()).mean() - self.critic(real).mean()
        opt_c.zero_grad()
        self.manual_backward(c_loss)
        opt_c.step()
        for p in self.critic.parameters():
            p.data.clamp_(-self.clip, self.clip)
        if (batch_idx + 1) % self.n_critic == 0:
            g_loss = -self.critic.predict(fake).mean()
            opt_g.zero_grad()
            self.manual_backward(g_loss)
            opt_g.step()
            self.log("train/g_loss", g_loss)

    def configure_optimizers(self):
        return [torch.optim.RMSprop(self.generator.parameters(), lr=5e-4),
                torch.optim.RMSprop(self.critic.parameters(), lr=5e-4)]


def main():
    pl.seed_everything(0)
    real = torch.randn(64, 16) * 0.5 + 2.0
    loader = DataLoader(TensorDataset(real), batch_size=16, shuffle=True)
    model = WGAN()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}

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
