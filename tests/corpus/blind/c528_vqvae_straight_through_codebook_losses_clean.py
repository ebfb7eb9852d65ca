import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class VectorQuantizer(nn.Module):
    def __init__(self, n_codes=16, dim=8, beta=0.25):
        super().__init__()
        self.codebook = nn.Embedding(n_codes, dim)
        self.codebook.weight.data.uniform_(-1 / n_codes, 1 / n_codes)
        self.beta = beta

    def forward(self, z_e):
        flat = z_e.permute(0, 2, 1).reshape(-1, z_e.shape[1])
        codes = torch.cdist(flat, self.codebook.weight).argmin(dim=1)
        z_q = self.codebook(codes).view(z_e.shape[0], z_e.shape[2], -1).permute(0, 2, 1)
        codebook_loss = F.mse_loss(z_q, z_e.detach())
        commitment_loss = F.mse_loss(z_e, z_q.detach())
        z_st = z_e + (z_q - z_e).detach()
        return z_st, codebook_loss + self.beta * commitment_loss, codes


class VQVAE(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv1d(1, 16, 4, stride=2, padding=1), nn.ReLU(), nn.Conv1d(16, dim, 3, padding=1))
        self.vq = VectorQuantizer(dim=dim)
        self.decoder = nn.Sequential(nn.ConvTranspose1d(dim, 16, 4, stride=2, padding=1), nn.ReLU(),
                                     nn.Conv1d(16, 1, 3, padding=1))

    def forward(self, x):
        z_q, vq_loss, codes = self.vq(self.encoder(x))
        return self.decoder(z_q), vq_loss, codes


def train(model, loader, optimizer, epochs=2):
    model.train()
    usage = torch.zeros(model.vq.codebook.num_embeddings)
    for _ in range(epochs):
        for (x,) in loader:
            recon, vq_loss, codes = model(x)
            loss = F.mse_loss(recon, x) + vq_loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            usage += torch.bincount(codes, minlength=usage.numel())
    return usage


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    t = torch.linspace(0, 6.28, 32)
    x = torch.sin(t[None, None] * torch.randint(1, 4, (48, 1, 1), generator=g)) + 0.05 * torch.randn(48, 1, 32, generator=g)
    loader = DataLoader(TensorDataset(x), batch_size=16, shuffle=True, generator=g)
    model = VQVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    before = model.vq.codebook.weight.detach().clone()
    usage = train(model, loader, optimizer)
    return {"model": model}, {"codebook_changed": not torch.equal(before, model.vq.codebook.weight),
                              "codes_used": int((usage > 0).sum()) > 0}

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
