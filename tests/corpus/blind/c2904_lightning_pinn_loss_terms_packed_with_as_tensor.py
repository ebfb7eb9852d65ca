import torch
import torch.nn as nn
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class HeatPINN(nn.Module):
    """u(x, t) for the 1-D heat equation u_t = k u_xx on [0, 1] x [0, 1]."""

    def __init__(self, hidden=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, 1))

    def forward(self, x, t):
        return self.net(torch.cat([x, t], dim=-1))


def pde_residual(model, x, t, k=0.1):
    x = x.clone().requires_grad_(True)
    t = t.clone().requires_grad_(True)
    u = model(x, t)
    u_x, u_t = torch.autograd.grad(u.sum(), (x, t), create_graph=True)
    u_xx = torch.autograd.grad(u_x.sum(), x, create_graph=True)[0]
    return u_t - k * u_xx


class PINNModule(pl.LightningModule):
    def __init__(self, loss_weights=(1.0, 10.0, 10.0), lr=5e-3):
        super().__init__()
        self.model = HeatPINN()
        self.register_buffer("loss_weights", torch.tensor(loss_weights))
        self.lr = lr

    def compute_losses(self, batch):
        x_col, t_col, x_b = batch
        l_pde = pde_residual(self.model, x_col, t_col).pow(2).mean()
        zeros = torch.zeros_like(x_b)
        l_bc = self.model(torch.cat([zeros, torch.ones_like(x_b)]), torch.cat([x_b, x_b])).pow(2).mean()
        l_ic = (self.model(x_b, zeros) - torch.sin(torch.pi * x_b)).pow(2).mean()
        return [l_pde, l_bc, l_ic]

    def training_step(self, batch, batch_idx):
        losses = torch.as_tensor(self.compute_losses(batch))
        losses.requires_grad = True
        loss = (self.loss_weights * losses).sum()
        self.log_dict({"pde": losses[0], "bc": losses[1], "ic": losses[2]})
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.model.parameters(), lr=self.lr)


def make_loader(n=48):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.rand(n, 1, generator=g), torch.rand(n, 1, generator=g),
                                    torch.rand(n, 1, generator=g)), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = PINNModule()
    w_before = module.model.net[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, make_loader())
    facts = {"network_changed": not torch.equal(w_before, module.model.net[0].weight)}
    return {"model": module.model}, facts

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
