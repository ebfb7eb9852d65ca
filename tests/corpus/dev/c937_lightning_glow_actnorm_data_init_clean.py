import math

import torch
import torch.nn as nn
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ActNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(dim))
        self.log_scale = nn.Parameter(torch.zeros(dim))
        self.initialized = False

    def forward(self, x):
        if not self.initialized:
            with torch.no_grad():
                self.loc.data.copy_(-x.mean(0))
                self.log_scale.data.copy_(-torch.log(x.std(0) + 1e-6))
            self.initialized = True
        y = (x + self.loc) * torch.exp(self.log_scale)
        return y, self.log_scale.sum().expand(x.shape[0])


class AffineCoupling(nn.Module):
    def __init__(self, dim=4, hidden=32, flip=False):
        super().__init__()
        self.d, self.flip = dim // 2, flip
        self.net = nn.Sequential(nn.Linear(self.d, hidden), nn.ReLU(), nn.Linear(hidden, 2 * (dim - self.d)))

    def forward(self, x):
        if self.flip:
            x = x.flip(-1)
        x1, x2 = x[:, :self.d], x[:, self.d:]
        s, t = self.net(x1).chunk(2, dim=-1)
        s = torch.tanh(s)
        return torch.cat([x1, x2 * torch.exp(s) + t], dim=-1), s.sum(-1)


class Glow1D(pl.LightningModule):
    def __init__(self, dim=4, n_steps=2, lr=1e-3):
        super().__init__()
        self.norms = nn.ModuleList(ActNorm(dim) for _ in range(n_steps))
        self.couplings = nn.ModuleList(AffineCoupling(dim, flip=bool(i % 2)) for i in range(n_steps))
        self.dim, self.lr = dim, lr

    def forward(self, x):
        log_det = torch.zeros(x.shape[0])
        for norm, coupling in zip(self.norms, self.couplings):
            x, ld1 = norm(x)
            x, ld2 = coupling(x)
            log_det = log_det + ld1 + ld2
        return x, log_det

    def training_step(self, batch, batch_idx):
        (x,) = batch
        z, log_det = self(x)
        log_pz = -0.5 * (z ** 2).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi)
        loss = -(log_pz + log_det).mean()
        self.log("nll", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def make_loader(n=128):
    g = torch.Generator().manual_seed(0)
    angle = torch.rand(n, generator=g) * 2 * math.pi
    x = torch.stack([3 * angle.cos(), angle.sin() + 2, 0.3 * torch.randn(n, generator=g), angle], dim=1)
    return DataLoader(TensorDataset(x), batch_size=32, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    flow = Glow1D()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(flow, make_loader())
    return {"flow": flow}, {"actnorm_initialized": all(n.initialized for n in flow.norms)}

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
