import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"z_dim": 8, "x_dim": 16, "r1_gamma": 10.0, "r1_every": 2, "lr": 2e-3, "epochs": 2}


def prepare_real(real, need_r1):
    """Images arrive in [0, 1]; the generator ends in tanh, so map them to [-1, 1]."""
    if need_r1:
        real.requires_grad_(True)
    return real.mul_(2.0).sub_(1.0)


def r1_penalty(d_real, real):
    grad, = torch.autograd.grad(d_real.sum(), real, create_graph=True)
    return grad.pow(2).sum(dim=1).mean()


class R1GAN(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.G = nn.Sequential(nn.Linear(cfg["z_dim"], 32), nn.ReLU(), nn.Linear(32, cfg["x_dim"]), nn.Tanh())
        self.D = nn.Sequential(nn.Linear(cfg["x_dim"], 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        need_r1 = batch_idx % self.cfg["r1_every"] == 0
        real = prepare_real(batch[0], need_r1)
        fake = self.G(torch.randn(real.size(0), self.cfg["z_dim"]))
        d_real = self.D(real)
        d_loss = F.softplus(self.D(fake.detach())).mean() + F.softplus(-d_real).mean()
        if need_r1:
            d_loss = d_loss + 0.5 * self.cfg["r1_gamma"] * self.cfg["r1_every"] * r1_penalty(d_real, real)
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        g_loss = F.softplus(-self.D(fake)).mean()
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()

    def configure_optimizers(self):
        return [torch.optim.Adam(self.G.parameters(), lr=self.cfg["lr"], betas=(0.0, 0.99)),
                torch.optim.Adam(self.D.parameters(), lr=self.cfg["lr"], betas=(0.0, 0.99))]


def image_loader(cfg, n=48):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.rand(n, cfg["x_dim"], generator=g)), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = R1GAN(CFG)
    trainer = pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False)
    trainer.fit(model, image_loader(CFG))
    return {"G": model.G, "D": model.D}

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
