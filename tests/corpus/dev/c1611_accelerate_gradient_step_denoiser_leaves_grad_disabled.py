import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TinyDRUNet(nn.Module):
    def __init__(self, channels=1, width=8):
        super().__init__()
        self.head = nn.Conv2d(channels + 1, width, 3, padding=1)
        self.body = nn.Sequential(nn.ELU(), nn.Conv2d(width, width, 3, padding=1), nn.ELU())
        self.tail = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, x, sigma):
        noise_map = sigma.view(-1, 1, 1, 1).expand(-1, 1, *x.shape[2:])
        return self.tail(self.body(self.head(torch.cat([x, noise_map], dim=1))))


class GradientStepDenoiser(nn.Module):
    """D(x) = x - grad g(x), with the potential g(x) = 0.5 * ||x - N(x)||^2 (gradient-step PnP denoiser)."""

    def __init__(self):
        super().__init__()
        self.net = TinyDRUNet()

    def potential(self, x, sigma):
        return 0.5 * (x - self.net(x, sigma)).pow(2).flatten(1).sum(dim=1)

    def potential_grad(self, x, sigma):
        torch.set_grad_enabled(True)
        x = x.detach().requires_grad_()
        g = torch.autograd.grad(self.potential(x, sigma).sum(), x, create_graph=self.training)[0]
        torch.set_grad_enabled(False)
        return g

    def forward(self, x, sigma):
        return x - self.potential_grad(x, sigma)


def make_loader(n=24):
    g = torch.Generator().manual_seed(2)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 12), torch.linspace(-1, 1, 12), indexing="ij")
    clean = torch.stack([torch.sin(3 * xx * (1 + k % 3)) * torch.cos(2 * yy) for k in range(n)]).unsqueeze(1)
    sigma = 0.05 + 0.1 * torch.rand(n, generator=g)
    noisy = clean + sigma.view(-1, 1, 1, 1) * torch.randn(clean.shape, generator=g)
    return DataLoader(TensorDataset(noisy, clean, sigma), batch_size=6, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = GradientStepDenoiser()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    model.train()
    try:
        for noisy, clean, sigma in loader:
            optimizer.zero_grad()
            loss = F.l1_loss(model(noisy, sigma), clean)
            accelerator.backward(loss)
            optimizer.step()
    finally:
        torch.set_grad_enabled(True)
    return {"model": model}

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
