import math
import torch
import torch.nn as nn
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class RBFKernel(nn.Module):
    def __init__(self):
        super().__init__()
        self.raw_lengthscale = nn.Parameter(torch.tensor(0.0))
        self.raw_outputscale = nn.Parameter(torch.tensor(0.0))

    def forward(self, a, b):
        lengthscale = float(nn.functional.softplus(self.raw_lengthscale))
        sq = torch.cdist(a / lengthscale, b / lengthscale).pow(2)
        return nn.functional.softplus(self.raw_outputscale) * torch.exp(-0.5 * sq)


class DeepKernelGP(pl.LightningModule):
    def __init__(self, d_in=6, d_feat=2, lr=1e-2):
        super().__init__()
        self.feature_extractor = nn.Sequential(nn.Linear(d_in, 16), nn.ReLU(), nn.Linear(16, d_feat))
        self.kernel = RBFKernel()
        self.raw_noise = nn.Parameter(torch.tensor(-2.0))
        self.lr = lr

    def neg_mll(self, x, y):
        z = self.feature_extractor(x)
        n = x.shape[0]
        K = self.kernel(z, z) + (nn.functional.softplus(self.raw_noise) + 1e-4) * torch.eye(n)
        L = torch.linalg.cholesky(K)
        alpha = torch.cholesky_solve(y[:, None], L)
        return (0.5 * (y[:, None] * alpha).sum() + torch.log(torch.diagonal(L)).sum() + 0.5 * n * math.log(2 * math.pi)) / n

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.neg_mll(x, y)
        self.log("neg_mll", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def make_loader(n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 6, generator=g)
    y = torch.sin(2 * x[:, 0]) + 0.5 * x[:, 1] + 0.05 * torch.randn(n, generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = DeepKernelGP()
    ls0 = model.kernel.raw_lengthscale.detach().clone()
    fe0 = model.feature_extractor[0].weight.detach().clone()
    noise0 = model.raw_noise.detach().clone()
    pl.Trainer(max_epochs=3, logger=False, enable_checkpointing=False).fit(model, make_loader())
    return {"model": model}, {
        "lengthscale_changed": not torch.equal(ls0, model.kernel.raw_lengthscale),
        "features_changed": not torch.equal(fe0, model.feature_extractor[0].weight),
        "noise_changed": not torch.equal(noise0, model.raw_noise),
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
