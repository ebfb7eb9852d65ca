import math
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class SVGPLayer(nn.Module):
    """Sparse variational GP with an RBF kernel on learned features (whitened inducing values)."""

    def __init__(self, d_feat=2, n_inducing=8):
        super().__init__()
        self.inducing = nn.Parameter(torch.randn(n_inducing, d_feat))
        self.q_mu = nn.Parameter(torch.zeros(n_inducing))
        self.q_logdiag = nn.Parameter(torch.full((n_inducing,), -2.0))
        self.raw_lengthscale = nn.Parameter(torch.zeros(d_feat))
        self.raw_noise = nn.Parameter(torch.tensor(-2.0))

    def kernel(self, a, b):
        ls = F.softplus(self.raw_lengthscale)
        return torch.exp(-0.5 * torch.cdist(a / ls, b / ls).pow(2))

    def elbo(self, z, y, n_total):
        m = self.inducing.shape[0]
        Kuu = self.kernel(self.inducing, self.inducing) + 1e-4 * torch.eye(m)
        L = torch.linalg.cholesky(Kuu)
        A = torch.linalg.solve_triangular(L, self.kernel(self.inducing, z), upper=False)
        mean = A.t() @ self.q_mu
        s2 = self.q_logdiag.exp()
        var = 1.0 - A.pow(2).sum(0) + (A.pow(2) * s2[:, None]).sum(0)
        noise = F.softplus(self.raw_noise) + 1e-4
        ll = -0.5 * (math.log(2 * math.pi) + noise.log() + ((y - mean).pow(2) + var) / noise)
        kl = 0.5 * (s2.sum() + self.q_mu.pow(2).sum() - m - self.q_logdiag.sum())
        return ll.sum() * n_total / z.shape[0] - kl


class DKLRegressor(pl.LightningModule):
    def __init__(self, n_total=64):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 2))
        self.gp = SVGPLayer()
        self.n_total = n_total

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = -self.gp.elbo(self.features(x), y, self.n_total) / self.n_total
        self.log("neg_elbo", loss.item())
        self.log("lengthscale", F.softplus(self.gp.raw_lengthscale).detach().mean().item())
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_neg_elbo", -self.gp.elbo(self.features(x), y, self.n_total).item())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def main():
    pl.seed_everything(0)
    x = torch.randn(64, 5)
    y = torch.sin(x[:, 0]) + 0.3 * x[:, 1]
    train = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    val = DataLoader(TensorDataset(x[:16], y[:16]), batch_size=16)
    model = DKLRegressor()
    f0 = model.features[0].weight.detach().clone()
    ls0 = model.gp.raw_lengthscale.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, train, val)
    return {"model": model}, {
        "features_changed": not torch.equal(f0, model.features[0].weight),
        "lengthscale_changed": not torch.equal(ls0, model.gp.raw_lengthscale),
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
