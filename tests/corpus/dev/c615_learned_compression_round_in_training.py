import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Analysis(nn.Module):
    def __init__(self, ch=8, latent=4):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, ch, 3, stride=2, padding=1), nn.GELU(), nn.Conv2d(ch, latent, 3, stride=2, padding=1))

    def forward(self, x):
        return self.net(x)


class Synthesis(nn.Module):
    def __init__(self, ch=8, latent=4):
        super().__init__()
        self.net = nn.Sequential(nn.ConvTranspose2d(latent, ch, 4, stride=2, padding=1), nn.GELU(),
                                 nn.ConvTranspose2d(ch, 1, 4, stride=2, padding=1))

    def forward(self, y):
        return self.net(y)


class LearnedCodec(nn.Module):
    def __init__(self):
        super().__init__()
        self.g_a = Analysis()
        self.g_s = Synthesis()
        self.scale = nn.Parameter(torch.full((1, 4, 1, 1), 8.0))

    def quantize(self, y):
        return torch.round(y * self.scale) / self.scale

    def forward(self, x):
        y = self.g_a(x)
        y_hat = self.quantize(y)
        return self.g_s(y_hat), y_hat


def rate_proxy(y_hat):
    return torch.log1p(y_hat.abs()).mean()


def train(model, loader, optimizer, scheduler, lmbda=0.01, epochs=1):
    model.train()
    for _ in range(epochs):
        for (x,) in loader:
            x_hat, y_hat = model(x)
            loss = F.mse_loss(x_hat, x) + lmbda * rate_proxy(y_hat)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    model = LearnedCodec()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    images = torch.rand(32, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    before = model.g_a.net[0].weight.detach().clone()
    train(model, DataLoader(TensorDataset(images), batch_size=16), optimizer, scheduler)
    return {"model": model}, {"encoder_changed": not torch.equal(before, model.g_a.net[0].weight)}

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
