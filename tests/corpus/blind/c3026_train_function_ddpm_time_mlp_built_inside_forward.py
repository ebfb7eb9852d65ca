import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def sinusoidal_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half) / half)
    ang = t.float()[:, None] * freqs[None]
    return torch.cat([ang.sin(), ang.cos()], dim=-1)


class DoubleConv(nn.Module):
    def __init__(self, c_in, c_out, t_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.t_dim, self.c_out = t_dim, c_out

    def forward(self, x, t_emb):
        h = F.silu(self.conv1(x))
        emb_layer = nn.Sequential(nn.SiLU(), nn.Linear(self.t_dim, self.c_out))
        h = h + emb_layer(t_emb)[:, :, None, None]
        return F.silu(self.conv2(h))


class SmallUNet(nn.Module):
    def __init__(self, ch=8, t_dim=16):
        super().__init__()
        self.t_dim = t_dim
        self.time_mlp = nn.Sequential(nn.Linear(t_dim, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        self.down = DoubleConv(3, ch, t_dim)
        self.up = DoubleConv(ch, ch, t_dim)
        self.out = nn.Conv2d(ch, 3, 1)

    def forward(self, x, t):
        t_emb = self.time_mlp(sinusoidal_embedding(t, self.t_dim))
        return self.out(self.up(self.down(x, t_emb), t_emb))


class Diffusion:
    def __init__(self, steps=100):
        betas = torch.linspace(1e-4, 0.02, steps)
        self.alpha_hat = torch.cumprod(1 - betas, 0)
        self.steps = steps

    def noise_images(self, x, t):
        a = self.alpha_hat[t][:, None, None, None]
        eps = torch.randn_like(x)
        return a.sqrt() * x + (1 - a).sqrt() * eps, eps


def train(model, diffusion, loader, optimizer, scheduler, epochs=2):
    for _ in range(epochs):
        for (images,) in loader:
            t = torch.randint(1, diffusion.steps, (images.shape[0],))
            x_t, eps = diffusion.noise_images(images, t)
            loss = F.mse_loss(model(x_t, t), eps)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    model = SmallUNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 3, 8, 8, generator=g)), batch_size=4, shuffle=True, generator=g)
    w0 = model.time_mlp[0].weight.detach().clone()
    train(model, Diffusion(), loader, optimizer, scheduler)
    x, t = torch.randn(2, 3, 8, 8, generator=g), torch.tensor([10, 50])
    with torch.no_grad():
        same_output_twice = torch.equal(model(x, t), model(x, t))
    facts = {"time_mlp_changed": not torch.equal(w0, model.time_mlp[0].weight),
             "block_has_time_projection": any("emb" in n for n, _ in model.down.named_parameters()),
             "forward_deterministic": same_output_twice}
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
