import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class WAEEncoder(nn.Module):
    def __init__(self, d_in=20, hidden=32, z_dim=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, z_dim))

    def forward(self, x):
        return self.net(x)


class WAEDecoder(nn.Module):
    def __init__(self, z_dim=4, hidden=32, d_out=20):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, d_out))

    def forward(self, z):
        return self.net(z)


def imq_kernel(a, b, scale=2.0):
    c = 2.0 * a.shape[1] * scale
    return c / (c + torch.cdist(a, b) ** 2)


def mmd_penalty(z, prior):
    n = z.shape[0]
    off = 1 - torch.eye(n)
    k_zz = (imq_kernel(z, z) * off).sum() / (n * (n - 1))
    k_pp = (imq_kernel(prior, prior) * off).sum() / (n * (n - 1))
    return k_zz + k_pp - 2 * imq_kernel(z, prior).mean()


def make_loader(n=48, bs=12):
    g = torch.Generator().manual_seed(30)
    return DataLoader(TensorDataset(torch.randn(n, 20, generator=g)), batch_size=bs, shuffle=True, drop_last=True)


def main():
    set_seed(0)
    accelerator = Accelerator()
    encoder, decoder = WAEEncoder(), WAEDecoder()
    optimizer = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=1e-3)
    encoder, decoder, optimizer, loader = accelerator.prepare(encoder, decoder, optimizer, make_loader())
    lam = 10.0
    for epoch in range(2):
        for (x,) in loader:
            optimizer.zero_grad()
            z = encoder(x)
            recon_loss = F.mse_loss(decoder(z), x)
            mmd_loss = lam * mmd_penalty(z, torch.randn_like(z))
            accelerator.backward(recon_loss)
            accelerator.backward(mmd_loss)
            optimizer.step()
    return {"encoder": encoder, "decoder": decoder}

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
