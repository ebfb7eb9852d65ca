import numpy as np
import torch
import torch.nn as nn
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"width": 24, "lr": 2e-3, "epochs": 3, "true_kappa": 0.3, "w_data": 1.0}


class DiffusionNet(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1))

    def forward(self, xt):
        return self.net(xt)


def effective_diffusivity(log_kappa, u):
    """kappa(u) = kappa0 * (1 + 0.1 u^2): nonlinear diffusivity, evaluated with the lab's numpy material model."""
    kappa0 = np.exp(log_kappa.detach().numpy())
    return torch.as_tensor(kappa0 * (1.0 + 0.1 * u.detach().numpy() ** 2), dtype=u.dtype)


class InversePINN(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.u_net = DiffusionNet(cfg["width"])
        self.log_kappa = nn.Parameter(torch.tensor(0.0))

    def residual(self, xt):
        xt = xt.clone().requires_grad_(True)
        u = self.u_net(xt)
        du = torch.autograd.grad(u.sum(), xt, create_graph=True)[0]
        u_x, u_t = du[:, :1], du[:, 1:]
        u_xx = torch.autograd.grad(u_x.sum(), xt, create_graph=True)[0][:, :1]
        return u_t - effective_diffusivity(self.log_kappa, u) * u_xx

    def training_step(self, batch, batch_idx):
        xt_obs, u_obs, xt_col = batch
        loss_data = (self.u_net(xt_obs) - u_obs).pow(2).mean()
        loss_pde = self.residual(xt_col).pow(2).mean()
        loss = self.cfg["w_data"] * loss_data + loss_pde
        self.log("kappa", self.log_kappa.exp().item())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam([{"params": self.u_net.parameters()},
                                 {"params": [self.log_kappa], "lr": 10 * self.cfg["lr"]}], lr=self.cfg["lr"])


def measurements(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    xt = torch.rand(n, 2, generator=g)
    u = torch.exp(-cfg["true_kappa"] * np.pi ** 2 * xt[:, 1:]) * torch.sin(np.pi * xt[:, :1])
    col = torch.rand(n, 2, generator=g)
    return DataLoader(TensorDataset(xt, u, col), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = InversePINN(CFG)
    k0 = module.log_kappa.detach().clone()
    w0 = module.u_net.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False).fit(module, measurements(CFG))
    return {"model": module}, {
        "kappa_changed": not torch.equal(k0, module.log_kappa),
        "u_net_changed": not torch.equal(w0, module.u_net.net[0].weight),
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
