import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LowerBound(torch.autograd.Function):
    """max(x, bound) whose gradient still passes when it pushes x back above the bound."""

    @staticmethod
    def forward(ctx, x, bound):
        ctx.save_for_backward(x)
        ctx.bound = bound
        return x.clamp(min=bound)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        pass_through = (x >= ctx.bound) | (grad_output < 0)
        return grad_output * pass_through, None


def lower_bound(x, bound):
    return LowerBound.apply(x, bound)


def gaussian_likelihood(y_hat, scales, bound=0.11):
    scales = lower_bound(scales, bound)
    normal = torch.distributions.Normal(0.0, 1.0)
    upper = normal.cdf((y_hat + 0.5) / scales)
    lower = normal.cdf((y_hat - 0.5) / scales)
    return lower_bound(upper - lower, 1e-9)


class ScaleHyperprior(nn.Module):
    def __init__(self, n=16, m=8):
        super().__init__()
        self.g_a = nn.Sequential(nn.Conv2d(3, n, 5, 2, 2), nn.GELU(), nn.Conv2d(n, m, 5, 2, 2))
        self.g_s = nn.Sequential(nn.ConvTranspose2d(m, n, 5, 2, 2, output_padding=1), nn.GELU(),
                                 nn.ConvTranspose2d(n, 3, 5, 2, 2, output_padding=1))
        self.h_a = nn.Sequential(nn.Conv2d(m, n, 3, 1, 1), nn.ReLU(), nn.Conv2d(n, m, 3, 2, 1))
        self.h_s = nn.Sequential(nn.ConvTranspose2d(m, n, 3, 2, 1, output_padding=1), nn.ReLU(), nn.Conv2d(n, m, 3, 1, 1))
        self.z_log_scale = nn.Parameter(torch.zeros(1, m, 1, 1))

    @staticmethod
    def quantize(v, training):
        if training:
            return v + torch.empty_like(v).uniform_(-0.5, 0.5)
        return torch.round(v)

    def forward(self, x):
        y = self.g_a(x)
        z = self.h_a(y.abs())
        z_hat = self.quantize(z, self.training)
        z_lik = gaussian_likelihood(z_hat, self.z_log_scale.exp().expand_as(z_hat))
        scales = self.h_s(z_hat)
        y_hat = self.quantize(y, self.training)
        y_lik = gaussian_likelihood(y_hat, scales)
        return self.g_s(y_hat), y_lik, z_lik


def rate_distortion(x, x_hat, likelihoods, lmbda):
    n_pix = x.shape[0] * x.shape[2] * x.shape[3]
    bpp = sum(-torch.log2(l).sum() for l in likelihoods) / n_pix
    return lmbda * 255 ** 2 * F.mse_loss(x_hat, x) + bpp, bpp


def train_one_epoch(model, loader, optimizer, cfg):
    model.train()
    for (x,) in loader:
        x_hat, y_lik, z_lik = model(x)
        loss, bpp = rate_distortion(x, x_hat, (y_lik, z_lik), cfg["lmbda"])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        optimizer.step()
    return bpp.item()


def main():
    torch.manual_seed(0)
    cfg = {"lmbda": 0.01, "lr": 1e-3, "clip": 1.0, "epochs": 2}
    model = ScaleHyperprior()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    base = torch.rand(16, 3, 4, 4)
    images = F.interpolate(base, size=(16, 16), mode="bilinear", align_corners=False)
    loader = DataLoader(TensorDataset(images), batch_size=4, shuffle=True)
    hs0 = model.h_s[0].weight.detach().clone()
    ga0 = model.g_a[0].weight.detach().clone()
    for _ in range(cfg["epochs"]):
        train_one_epoch(model, loader, optimizer, cfg)
    return {"model": model}, {
        "hyper_synthesis_changed": not torch.equal(hs0, model.h_s[0].weight),
        "analysis_changed": not torch.equal(ga0, model.g_a[0].weight),
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
