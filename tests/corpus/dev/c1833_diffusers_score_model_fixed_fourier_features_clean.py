import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.training_utils import EMAModel


class GaussianFourierProjection(nn.Module):
    def __init__(self, embed_dim=32, scale=16.0):
        super().__init__()
        self.W = nn.Parameter(torch.randn(embed_dim // 2) * scale, requires_grad=False)

    def forward(self, sigma):
        proj = torch.log(sigma)[:, None] * self.W[None, :] * 2 * math.pi
        return torch.cat([torch.sin(proj), torch.cos(proj)], dim=-1)


class TimeEmbedding(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.fourier = GaussianFourierProjection(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU())

    def forward(self, sigma):
        return self.mlp(self.fourier(sigma))


class ScoreModel(ModelMixin):
    @register_to_config
    def __init__(self, data_dim=8, dim=32):
        super().__init__()
        self.time_embed = TimeEmbedding(dim)
        self.net = nn.Sequential(nn.Linear(data_dim + dim, 64), nn.SiLU(), nn.Linear(64, data_dim))

    def forward(self, x, sigma):
        return self.net(torch.cat([x, self.time_embed(sigma)], dim=-1)) / sigma[:, None]


def dsm_loss(model, x, sigma_min=0.01, sigma_max=10.0):
    u = torch.rand(x.size(0))
    sigma = sigma_min * (sigma_max / sigma_min) ** u
    noise = torch.randn_like(x)
    score = model(x + sigma[:, None] * noise, sigma)
    return ((sigma[:, None] * score + noise) ** 2).sum(-1).mean()


def main():
    torch.manual_seed(0)
    model = ScoreModel()
    ema = EMAModel(model.parameters(), decay=0.999)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    data = torch.randn(128, 8) * 0.5 + 1.0
    w0 = model.net[0].weight.detach().clone()
    for i in range(0, 128, 32):
        loss = dsm_loss(model, data[i:i + 32])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ema.step(model.parameters())
    return {"model": model}, {"net_changed": not torch.equal(w0, model.net[0].weight)}

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
