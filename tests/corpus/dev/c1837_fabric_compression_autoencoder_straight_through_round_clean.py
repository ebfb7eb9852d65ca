import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class FactorizedPrior(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(channels))

    def bits(self, y_hat):
        scale = self.log_scale.exp().view(1, -1, 1, 1)
        dist = torch.distributions.Laplace(torch.zeros_like(scale), scale)
        p = dist.cdf(y_hat + 0.5) - dist.cdf(y_hat - 0.5)
        return -torch.log2(p.clamp_min(1e-9)).sum() / y_hat.size(0)


class CompressionAE(nn.Module):
    def __init__(self, ch=8, latent_scale=8.0):
        super().__init__()
        self.latent_scale = latent_scale
        self.encoder = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.GELU(), nn.Conv2d(16, ch, 3, stride=2, padding=1))
        self.decoder = nn.Sequential(nn.ConvTranspose2d(ch, 16, 4, stride=2, padding=1), nn.GELU(),
                                     nn.ConvTranspose2d(16, 3, 4, stride=2, padding=1))
        self.prior = FactorizedPrior(ch)

    def forward(self, x):
        y_hat = RoundSTE.apply(self.encoder(x) * self.latent_scale)
        return self.decoder(y_hat), self.prior.bits(y_hat)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = CompressionAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.rand(16, 3, 16, 16)), batch_size=8))
    w0 = model.module.encoder[0].weight.detach().clone()
    lmbda = 0.01
    for epoch in range(2):
        for (x,) in loader:
            x_hat, bpp = model(x)
            loss = F.mse_loss(x_hat, x) + lmbda * bpp
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"model": model.module}, {"encoder_changed": not torch.equal(w0, model.module.encoder[0].weight)}

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
