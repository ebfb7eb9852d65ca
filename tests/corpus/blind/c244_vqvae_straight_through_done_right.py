import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class VectorQuantizer(nn.Module):
    def __init__(self, n_codes=16, dim=4, beta=0.25):
        super().__init__()
        self.codebook = nn.Embedding(n_codes, dim)
        self.codebook.weight.data.uniform_(-1.0 / n_codes, 1.0 / n_codes)
        self.beta = beta

    def forward(self, z_e):
        flat = z_e.reshape(-1, z_e.size(-1))
        dist = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ self.codebook.weight.t()
                + self.codebook.weight.pow(2).sum(1))
        codes = dist.argmin(dim=1)
        z_q = self.codebook(codes).view_as(z_e)
        codebook_loss = F.mse_loss(z_q, z_e.detach())
        commitment_loss = F.mse_loss(z_e, z_q.detach())
        z_q_st = z_e + (z_q - z_e).detach()
        return z_q_st, codebook_loss + self.beta * commitment_loss, codes


class VQVAE(nn.Module):
    def __init__(self, x_dim=24, dim=4, n_latents=3):
        super().__init__()
        self.n_latents, self.dim = n_latents, dim
        self.encoder = nn.Sequential(nn.Linear(x_dim, 32), nn.ReLU(), nn.Linear(32, n_latents * dim))
        self.vq = VectorQuantizer(dim=dim)
        self.decoder = nn.Sequential(nn.Linear(n_latents * dim, 32), nn.ReLU(), nn.Linear(32, x_dim))

    def forward(self, x):
        z_e = self.encoder(x).view(x.size(0), self.n_latents, self.dim)
        z_q, vq_loss, codes = self.vq(z_e)
        return self.decoder(z_q.flatten(1)), vq_loss, codes


def train(model, loader, optimizer, epochs=3):
    used = set()
    for _ in range(epochs):
        for (x,) in loader:
            recon, vq_loss, codes = model(x)
            loss = F.mse_loss(recon, x) + vq_loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            used.update(codes.tolist())
    return used


def main():
    torch.manual_seed(0)
    model = VQVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    used = train(model, DataLoader(TensorDataset(torch.randn(48, 24)), batch_size=16, shuffle=True), optimizer)
    return {"model": model}, {"codes_used_gt_1": len(used) > 1}

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
