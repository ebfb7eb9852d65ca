import math

import torch
import torch.nn as nn
import lightning as L
from torch.utils.data import DataLoader, TensorDataset


class AffineCoupling(nn.Module):
    def __init__(self, dim, mask, hidden=32):
        super().__init__()
        self.register_buffer("mask", mask)
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 2 * dim))

    def forward(self, x):
        s, t = self.net(x * self.mask).chunk(2, dim=-1)
        s = torch.tanh(s) * (1 - self.mask)
        t = t * (1 - self.mask)
        return x * torch.exp(s) + t, s.sum(-1)


class RealNVP(nn.Module):
    def __init__(self, dim=4, n_couplings=4):
        super().__init__()
        masks = [(torch.arange(dim) % 2 == i % 2).float() for i in range(n_couplings)]
        self.couplings = nn.ModuleList(AffineCoupling(dim, m) for m in masks)
        self.base_loc = nn.Parameter(torch.zeros(dim))
        self.base_scale = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        log_det = torch.zeros(x.shape[0])
        for coupling in self.couplings:
            x, ld = coupling(x)
            log_det = log_det + ld
        return x, log_det


class FlowModule(L.LightningModule):
    def __init__(self, dim=4, lr=1e-3):
        super().__init__()
        self.flow = RealNVP(dim)
        self.dim, self.lr = dim, lr

    def compute_base_log_norm(self):
        return -0.5 * self.dim * math.log(2 * math.pi) - torch.log(self.flow.base_scale).sum()

    def on_fit_start(self):
        # normalising constant of the diagonal Gaussian base density, computed once per fit
        self.base_log_norm = self.compute_base_log_norm()

    def training_step(self, batch, batch_idx):
        (x,) = batch
        z, log_det = self.flow(x)
        quad = (((z - self.flow.base_loc) / self.flow.base_scale) ** 2).sum(-1)
        log_pz = self.base_log_norm - 0.5 * quad
        nll = -(log_pz + log_det).mean()
        self.log("train/nll", nll)
        return nll

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    L.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    data = torch.randn(16, 4, generator=g) @ torch.randn(4, 4, generator=g)
    module = FlowModule()
    L.Trainer(max_epochs=1, logger=False).fit(module, DataLoader(TensorDataset(data), batch_size=4))
    return {"flow": module.flow}

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
