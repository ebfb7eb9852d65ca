import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, z_dim=16, ch=16):
        super().__init__()
        self.fc = nn.Linear(z_dim, ch * 4 * 4)
        self.up = nn.Sequential(nn.BatchNorm2d(ch), nn.ReLU(),
                                nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1), nn.BatchNorm2d(ch // 2), nn.ReLU(),
                                nn.ConvTranspose2d(ch // 2, 3, 4, 2, 1), nn.Tanh())
        self.ch = ch

    def forward(self, z):
        return self.up(self.fc(z).view(-1, self.ch, 4, 4))


class Discriminator(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, ch, 4, 2, 1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(ch, 2 * ch, 4, 2, 1), nn.LeakyReLU(0.2),
                                 nn.Flatten(), nn.Linear(2 * ch * 4 * 4, 1))

    def forward(self, x):
        return self.net(x)


class BatchAugment:
    """Flip / brightness / cutout applied to everything the discriminator sees (real and fake)."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def __call__(self, images):
        arr = images.detach().cpu().numpy().copy()
        flip = self.rng.random(arr.shape[0]) < 0.5
        arr[flip] = arr[flip, :, :, ::-1]
        arr = arr + self.rng.uniform(-0.2, 0.2, size=(arr.shape[0], 1, 1, 1))
        y0, x0 = self.rng.integers(0, 12, size=2)
        arr[:, :, y0:y0 + 4, x0:x0 + 4] = 0.0
        return torch.from_numpy(arr.astype(np.float32)).to(images.device)


def train(accelerator, G, D, loader, opt_g, opt_d, augment, z_dim=16, epochs=1):
    for _ in range(epochs):
        for (real,) in loader:
            z = torch.randn(real.shape[0], z_dim)
            fake = G(z)
            d_real = D(augment(real))
            d_fake = D(augment(fake.detach()))
            d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
            opt_d.zero_grad()
            accelerator.backward(d_loss)
            opt_d.step()

            g_loss = F.softplus(-D(augment(fake))).mean()
            opt_g.zero_grad()
            accelerator.backward(g_loss)
            opt_g.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    G, D = Generator(), Discriminator()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(32, 3, 16, 16) * 2 - 1
    loader = DataLoader(TensorDataset(real), batch_size=8, shuffle=True)
    G, D, opt_g, opt_d, loader = accelerator.prepare(G, D, opt_g, opt_d, loader)
    train(accelerator, G, D, loader, opt_g, opt_d, BatchAugment())
    return {"G": G, "D": D}

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
