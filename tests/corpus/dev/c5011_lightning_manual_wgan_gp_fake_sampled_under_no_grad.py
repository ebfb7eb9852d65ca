import torch
import torch.nn as nn
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"z_dim": 8, "x_dim": 16, "n_critic": 2, "gp_weight": 10.0, "lr_g": 2e-4, "lr_d": 2e-4, "epochs": 2}


def gradient_penalty(critic, real, fake):
    eps = torch.rand(real.size(0), 1)
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = critic(mixed)
    grads = torch.autograd.grad(scores, mixed, grad_outputs=torch.ones_like(scores), create_graph=True)[0]
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


class WGANGP(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.generator = nn.Sequential(nn.Linear(cfg["z_dim"], 32), nn.ReLU(), nn.Linear(32, cfg["x_dim"]))
        self.critic = nn.Sequential(nn.Linear(cfg["x_dim"], 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    @torch.no_grad()
    def sample_fake(self, n):
        z = torch.randn(n, self.cfg["z_dim"])
        return self.generator(z)

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        fake = self.sample_fake(real.size(0))

        d_loss = self.critic(fake).mean() - self.critic(real).mean() \
            + self.cfg["gp_weight"] * gradient_penalty(self.critic, real, fake)
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()

        if batch_idx % self.cfg["n_critic"] == 0:
            g_loss = -self.critic(fake).mean()
            opt_g.zero_grad()
            self.manual_backward(g_loss)
            opt_g.step()
            self.log("g_loss", g_loss.item())
        self.log("d_loss", d_loss.item())

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.cfg["lr_g"], betas=(0.0, 0.9))
        opt_d = torch.optim.Adam(self.critic.parameters(), lr=self.cfg["lr_d"], betas=(0.0, 0.9))
        return [opt_g, opt_d]


def real_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, cfg["x_dim"], generator=g) * 0.5 + 1.0
    return DataLoader(TensorDataset(x), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = WGANGP(CFG)
    g0 = model.generator[0].weight.detach().clone()
    d0 = model.critic[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False)
    trainer.fit(model, real_loader(CFG))
    return {"generator": model.generator, "critic": model.critic}, {
        "generator_changed": not torch.equal(g0, model.generator[0].weight),
        "critic_changed": not torch.equal(d0, model.critic[0].weight),
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
