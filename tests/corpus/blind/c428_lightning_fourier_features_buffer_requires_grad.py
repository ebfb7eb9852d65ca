import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class FourierFeatures(nn.Module):
    """Random Fourier feature encoding gamma(v) = [cos(2 pi v B), sin(2 pi v B)] with optionally learned B."""

    def __init__(self, in_dim=2, n_freq=16, scale=3.0, learnable=True):
        super().__init__()
        B = torch.randn(in_dim, n_freq) * scale
        if learnable:
            B.requires_grad_(True)
        self.register_buffer("B", B)

    def forward(self, v):
        proj = 2 * math.pi * v @ self.B
        return torch.cat([torch.cos(proj), torch.sin(proj)], dim=-1)


class ImplicitImage(pl.LightningModule):
    def __init__(self, n_freq=16, hidden=64):
        super().__init__()
        self.encoding = FourierFeatures(n_freq=n_freq)
        self.mlp = nn.Sequential(nn.Linear(2 * n_freq, hidden), nn.ReLU(), nn.Linear(hidden, 3))

    def forward(self, coords):
        return torch.sigmoid(self.mlp(self.encoding(coords)))

    def training_step(self, batch, batch_idx):
        coords, rgb = batch
        loss = F.mse_loss(self(coords), rgb)
        self.log("psnr", -10 * math.log10(loss.item() + 1e-10))
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=5e-3)


def make_image_loader(size=12):
    ys, xs = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    coords = torch.stack([xs, ys], -1).reshape(-1, 2)
    rgb = torch.stack([torch.sin(6 * xs), torch.cos(4 * ys), xs * ys], -1).reshape(-1, 3) * 0.5 + 0.5
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(coords, rgb), batch_size=48, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = ImplicitImage()
    B_before = model.encoding.B.detach().clone()
    pl.Trainer(max_epochs=2).fit(model, make_image_loader())
    facts = {"B_changed": not torch.equal(B_before, model.encoding.B.detach()),
             "B_in_parameters": any(p is model.encoding.B for p in model.parameters())}
    return {"model": model, "fourier_B": model.encoding.B}, facts

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
