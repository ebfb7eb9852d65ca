import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_samples": 16, "near": 2.0, "far": 6.0, "n_freqs": 4, "lr": 5e-3, "epochs": 2}


def positional_encoding(x, n_freqs):
    out = [x]
    for k in range(n_freqs):
        out += [torch.sin((2.0 ** k) * x), torch.cos((2.0 ** k) * x)]
    return torch.cat(out, dim=-1)


class TinyRadianceField(nn.Module):
    def __init__(self, n_freqs, width=48):
        super().__init__()
        in_dim = 3 * (1 + 2 * n_freqs)
        self.trunk = nn.Sequential(nn.Linear(in_dim, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
        self.sigma_head = nn.Linear(width, 1)
        self.rgb_head = nn.Sequential(nn.Linear(width, 3), nn.Sigmoid())

    def forward(self, pts, n_freqs):
        h = self.trunk(positional_encoding(pts, n_freqs))
        return F.softplus(self.sigma_head(h)).squeeze(-1), self.rgb_head(h)


def compute_weights(sigma, deltas):
    """Volume-rendering weights w_i = T_i * (1 - exp(-sigma_i * delta_i)), as in the reference renderer."""
    s = sigma.detach().cpu().numpy()
    alpha = 1.0 - np.exp(-s * deltas)
    trans = np.cumprod(np.concatenate([np.ones_like(alpha[:, :1]), 1.0 - alpha[:, :-1] + 1e-10], axis=1), axis=1)
    return torch.from_numpy((alpha * trans).astype(np.float32))


def render_rays(field, origins, dirs, cfg):
    z = torch.linspace(cfg["near"], cfg["far"], cfg["n_samples"]).expand(origins.shape[0], -1)
    pts = origins[:, None] + dirs[:, None] * z[..., None]
    sigma, rgb = field(pts, cfg["n_freqs"])
    deltas = np.diff(z.numpy(), axis=1, append=z.numpy()[:, -1:] + 1e10)
    weights = compute_weights(sigma, deltas)
    return (weights[..., None] * rgb).sum(dim=1)


def train(fabric, field, optimizer, loader, cfg):
    for epoch in range(cfg["epochs"]):
        for origins, dirs, target_rgb in loader:
            loss = F.mse_loss(render_rays(field, origins, dirs, cfg), target_rgb)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def ray_loader(n=64):
    g = torch.Generator().manual_seed(0)
    origins = torch.zeros(n, 3)
    dirs = F.normalize(torch.randn(n, 3, generator=g) * 0.2 + torch.tensor([0.0, 0.0, 1.0]), dim=-1)
    target = torch.sigmoid(dirs * 3.0)
    return DataLoader(TensorDataset(origins, dirs, target), batch_size=16, shuffle=True, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    field = TinyRadianceField(CFG["n_freqs"])
    optimizer = torch.optim.Adam(field.parameters(), lr=CFG["lr"])
    field, optimizer = fabric.setup(field, optimizer)
    loader = fabric.setup_dataloaders(ray_loader())
    s0 = field.module.sigma_head.weight.detach().clone()
    c0 = field.module.rgb_head[0].weight.detach().clone()
    train(fabric, field, optimizer, loader, CFG)
    return {"field": field.module}, {
        "density_changed": not torch.equal(s0, field.module.sigma_head.weight),
        "color_changed": not torch.equal(c0, field.module.rgb_head[0].weight),
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
