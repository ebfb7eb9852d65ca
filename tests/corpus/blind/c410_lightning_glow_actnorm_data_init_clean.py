import math

import torch
import torch.nn as nn
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ActNorm(nn.Module):
    """Per-feature affine map whose first batch sets bias/scale so outputs are standardized (Glow)."""

    def __init__(self, dim):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(dim))
        self.log_scale = nn.Parameter(torch.zeros(dim))
        self.register_buffer("initialized", torch.tensor(0, dtype=torch.uint8))

    @torch.no_grad()
    def data_init(self, x):
        self.loc.data.copy_(-x.mean(0))
        self.log_scale.data.copy_(-torch.log(x.std(0) + 1e-6))
        self.initialized.fill_(1)

    def forward(self, x):
        if self.initialized.item() == 0:
            self.data_init(x)
        y = (x + self.loc) * torch.exp(self.log_scale)
        return y, self.log_scale.sum().expand(x.size(0))


class AffineCoupling(nn.Module):
    def __init__(self, dim, hidden=32, flip=False):
        super().__init__()
        self.flip = flip
        half = dim // 2
        self.net = nn.Sequential(nn.Linear(half, hidden), nn.ReLU(), nn.Linear(hidden, 2 * (dim - half)))

    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        if self.flip:
            a, b = b, a
        log_s, t = self.net(a).chunk(2, dim=1)
        log_s = torch.tanh(log_s)
        b = b * torch.exp(log_s) + t
        out = torch.cat([b, a], dim=1) if self.flip else torch.cat([a, b], dim=1)
        return out, log_s.sum(1)


class FlowModel(pl.LightningModule):
    def __init__(self, dim=4, n_steps=3):
        super().__init__()
        layers = []
        for i in range(n_steps):
            layers += [ActNorm(dim), AffineCoupling(dim, flip=i % 2 == 1)]
        self.layers = nn.ModuleList(layers)
        self.dim = dim

    def log_prob(self, x):
        logdet = torch.zeros(x.size(0))
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        log_pz = -0.5 * (x ** 2).sum(1) - 0.5 * self.dim * math.log(2 * math.pi)
        return log_pz + logdet

    def training_step(self, batch, batch_idx):
        (x,) = batch
        nll = -self.log_prob(x).mean()
        self.log("train_nll", nll.item())
        return nll

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(128, 4, generator=g) * torch.tensor([3.0, 0.5, 1.0, 2.0]) + 1.0
    loader = DataLoader(TensorDataset(x), batch_size=32, shuffle=True, generator=g)
    model = FlowModel()
    with torch.no_grad():
        nll_before = -model.log_prob(x).mean().item()
    trainer = pl.Trainer(max_epochs=3)
    trainer.fit(model, loader)
    with torch.no_grad():
        nll_after = -model.log_prob(x).mean().item()
    facts = {"nll_decreased": nll_after < nll_before,
             "actnorm_initialized": bool(model.layers[0].initialized.item() == 1)}
    return {"model": model}, facts

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
