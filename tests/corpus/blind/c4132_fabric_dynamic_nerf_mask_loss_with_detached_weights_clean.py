import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class DynamicField(nn.Module):
    def __init__(self, hidden=32, n_freqs=3):
        super().__init__()
        self.n_freqs = n_freqs
        in_dim = 4 * (1 + 2 * n_freqs)
        self.trunk = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.sigma_head = nn.Linear(hidden, 1)
        self.rgb_head = nn.Linear(hidden, 3)
        self.mask_head = nn.Linear(hidden, 1)

    def encode(self, xyzt):
        freqs = 2.0 ** torch.arange(self.n_freqs)
        ang = xyzt[..., None] * freqs
        return torch.cat([xyzt, ang.sin().flatten(-2), ang.cos().flatten(-2)], -1)

    def forward(self, xyzt):
        h = self.trunk(self.encode(xyzt))
        return F.softplus(self.sigma_head(h)).squeeze(-1), torch.sigmoid(self.rgb_head(h)), self.mask_head(h).squeeze(-1)


def volume_render(field, origins, dirs, times, n_samples=8):
    t = torch.linspace(0.1, 1.2, n_samples)
    pts = origins[:, None] + dirs[:, None] * t[None, :, None]
    xyzt = torch.cat([pts, times[:, None, None].expand(-1, n_samples, 1)], -1)
    sigma, rgb, mask_logit = field(xyzt)
    alpha = 1 - torch.exp(-sigma * (t[1] - t[0]))
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha[:, :-1] + 1e-10], -1), -1)
    weights = alpha * trans
    color = (weights[..., None] * rgb).sum(1)
    # the moving-object mask supervises only the mask head; it must not reshape the geometry
    mask = (weights.detach() * torch.sigmoid(mask_logit)).sum(1)
    return color, mask


def train(fabric, field, optimizer, loader, cfg):
    for _ in range(cfg["epochs"]):
        for origins, dirs, times, target_rgb, target_mask in loader:
            color, mask = volume_render(field, origins, dirs, times)
            loss = F.mse_loss(color, target_rgb) + cfg["mask_weight"] * F.binary_cross_entropy(mask.clamp(1e-4, 1 - 1e-4), target_mask)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    n = 48
    data = TensorDataset(torch.rand(n, 3, generator=g) * 0.2, F.normalize(torch.randn(n, 3, generator=g), dim=-1),
                         torch.rand(n, generator=g), torch.rand(n, 3, generator=g), (torch.rand(n, generator=g) > 0.5).float())
    loader = fabric.setup_dataloaders(DataLoader(data, batch_size=16, shuffle=True, generator=g))
    field = DynamicField()
    optimizer = torch.optim.Adam(field.parameters(), lr=5e-3)
    field, optimizer = fabric.setup(field, optimizer)
    sig0 = field.sigma_head.weight.detach().clone()
    mask0 = field.mask_head.weight.detach().clone()
    train(fabric, field, optimizer, loader, {"epochs": 2, "mask_weight": 0.1})
    return {"field": field.module}, {
        "density_changed": not torch.equal(sig0, field.sigma_head.weight),
        "mask_head_changed": not torch.equal(mask0, field.mask_head.weight),
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
