import torch
import torch.nn as nn
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class EnergyNet(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


class EBMSystem(pl.LightningModule):
    """Energy-based model trained by contrastive divergence with SGLD negatives from a replay buffer."""

    def __init__(self, buffer_size=256, sgld_steps=10, step_size=0.05, noise=0.01, reg=0.1, lr=1e-3):
        super().__init__()
        self.energy = EnergyNet()
        self.register_buffer("replay", torch.rand(buffer_size, 2) * 4 - 2)
        self.sgld_steps, self.step_size, self.noise, self.reg, self.lr = sgld_steps, step_size, noise, reg, lr

    def sample_init(self, n):
        idx = torch.randint(0, len(self.replay), (n,))
        init = self.replay[idx].clone()
        fresh = torch.rand(n) < 0.05
        init[fresh] = torch.rand(int(fresh.sum()), 2) * 4 - 2
        return init, idx

    def langevin(self, x):
        """SGLD on the inputs; the energy's parameters are frozen while sampling."""
        for p in self.energy.parameters():
            p.requires_grad_(False)
        x = x.clone().requires_grad_(True)
        for _ in range(self.sgld_steps):
            grad_x, = torch.autograd.grad(self.energy(x).sum(), x)
            x = (x - self.step_size * grad_x + self.noise * torch.randn_like(x)).detach().requires_grad_(True)
        return x.detach()

    def training_step(self, batch, batch_idx):
        (x_pos,) = batch
        init, idx = self.sample_init(len(x_pos))
        x_neg = self.langevin(init)
        self.replay[idx] = x_neg
        e_pos, e_neg = self.energy(x_pos), self.energy(x_neg)
        loss = e_pos.mean() - e_neg.mean() + self.reg * (e_pos ** 2 + e_neg ** 2).mean()
        self.log("cd_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.energy.parameters(), lr=self.lr, betas=(0.0, 0.999))


def make_loader(n=64):
    g = torch.Generator().manual_seed(0)
    angles = torch.rand(n, generator=g) * 6.283
    pts = torch.stack([angles.cos(), angles.sin()], 1) + 0.05 * torch.randn(n, 2, generator=g)
    return DataLoader(TensorDataset(pts), batch_size=16, shuffle=True)


def main():
    pl.seed_everything(0)
    system = EBMSystem()
    w0 = system.energy.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(system, make_loader())
    return {"system": system}, {"energy_changed": not torch.equal(w0, system.energy.net[0].weight)}

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
