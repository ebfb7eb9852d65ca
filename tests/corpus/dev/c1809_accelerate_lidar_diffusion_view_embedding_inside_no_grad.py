import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import DDPMScheduler
from torch.utils.data import DataLoader, TensorDataset


class FrozenImageEncoder(nn.Module):
    def __init__(self, dim=24):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, dim))
        self.requires_grad_(False)

    def forward(self, img):
        return self.net(img)


class MultiViewConditioner(nn.Module):
    def __init__(self, n_views=4, dim=24, out_dim=32):
        super().__init__()
        self.encoder = FrozenImageEncoder(dim)
        self.view_embedding = nn.Parameter(torch.randn(1, n_views, dim) * 0.02)
        self.linear = nn.Linear(dim, out_dim)

    def forward(self, views):
        with torch.no_grad():
            feats = [self.encoder(views[:, i])[:, None] for i in range(views.size(1))]
            x = torch.cat(feats, 1) + self.view_embedding
            x = self.linear(x)
        return x.mean(dim=1)


class RangeImageDenoiser(nn.Module):
    def __init__(self, n_pts=64, cond_dim=32, hidden=64):
        super().__init__()
        self.inp = nn.Linear(n_pts + cond_dim + 1, hidden)
        self.out = nn.Linear(hidden, n_pts)

    def forward(self, x_t, t, cond):
        h = torch.cat([x_t, cond, t[:, None].float() / 1000.0], dim=-1)
        return self.out(F.silu(self.inp(h)))


class LidarLDM(nn.Module):
    def __init__(self):
        super().__init__()
        self.cond = MultiViewConditioner()
        self.denoiser = RangeImageDenoiser()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    scans, views = torch.randn(16, 64), torch.randn(16, 4, 3, 16, 16)
    loader = DataLoader(TensorDataset(scans, views), batch_size=8, shuffle=True)
    model = LidarLDM()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    w0 = model.cond.linear.weight.detach().clone()
    for scan, view in loader:
        noise = torch.randn_like(scan)
        t = torch.randint(0, 1000, (scan.size(0),))
        noisy = scheduler.add_noise(scan, noise, t)
        loss = F.mse_loss(model.denoiser(noisy, t, model.cond(view)), noise)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return {"model": model}, {"linear_changed": not torch.equal(w0, model.cond.linear.weight),
                              "view_embedding_requires_grad": model.cond.view_embedding.requires_grad}

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
