import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


def sinusoidal_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=-1)


class TinyDenoiser(nn.Module):
    def __init__(self, data_dim=2, hidden=64, t_dim=16):
        super().__init__()
        self.inp = nn.Linear(data_dim, hidden)
        self.mid = nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.out = nn.Linear(hidden, data_dim)
        self.hidden, self.t_dim = hidden, t_dim

    def time_embedding(self, t):
        emb = sinusoidal_embedding(t, self.t_dim)
        self.time_mlp = nn.Sequential(nn.Linear(self.t_dim, self.hidden), nn.SiLU(), nn.Linear(self.hidden, self.hidden))
        return self.time_mlp(emb)

    def forward(self, x, t):
        return self.out(self.mid(self.inp(x) + self.time_embedding(t)))


def train_ddpm(accelerator, model, loader, optimizer, alphas_cumprod, epochs=2):
    model.train()
    for _ in range(epochs):
        for (x0,) in loader:
            t = torch.randint(0, len(alphas_cumprod), (x0.shape[0],))
            noise = torch.randn_like(x0)
            a = alphas_cumprod[t][:, None]
            loss = F.mse_loss(model(a.sqrt() * x0 + (1 - a).sqrt() * noise, t), noise)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    angle = torch.rand(128, generator=g) * 2 * math.pi
    data = torch.stack([angle.cos(), angle.sin()], dim=1) + 0.05 * torch.randn(128, 2, generator=g)
    loader = DataLoader(TensorDataset(data), batch_size=32, shuffle=True, generator=g)
    model = TinyDenoiser()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    alphas_cumprod = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 50), dim=0)
    train_ddpm(accelerator, model, loader, optimizer, alphas_cumprod)
    first = model.time_mlp
    model(data[:4], torch.zeros(4, dtype=torch.long))
    in_opt = {id(p) for group in optimizer.param_groups for p in group["params"]}
    facts = {
        "time_mlp_in_optimizer": any(id(p) in in_opt for p in model.time_mlp.parameters()),
        "time_mlp_replaced_each_forward": model.time_mlp is not first,
    }
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
