import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class EMAQuantizer(nn.Module):
    def __init__(self, n_codes=16, dim=8, decay=0.9, eps=1e-5):
        super().__init__()
        self.register_buffer("codebook", torch.randn(n_codes, dim) * 0.1)
        self.register_buffer("cluster_size", torch.zeros(n_codes))
        self.register_buffer("embed_sum", self.codebook.clone())
        self.decay, self.eps = decay, eps

    def forward(self, z):
        flat = z.reshape(-1, z.shape[-1])
        idx = torch.cdist(flat, self.codebook).argmin(1)
        z_q = self.codebook[idx].view_as(z)
        if self.training:
            with torch.no_grad():
                onehot = F.one_hot(idx, self.codebook.shape[0]).type(flat.dtype)
                self.cluster_size.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
                self.embed_sum.mul_(self.decay).add_(onehot.t() @ flat, alpha=1 - self.decay)
                n = self.cluster_size.sum()
                size = (self.cluster_size + self.eps) / (n + self.codebook.shape[0] * self.eps) * n
                self.codebook.copy_(self.embed_sum / size.unsqueeze(1))
        commit = F.mse_loss(z, z_q.detach())
        return z + (z_q - z).detach(), commit


class PatchVQVAE(nn.Module):
    def __init__(self, d_in=12, dim=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, dim))
        self.quantizer = EMAQuantizer(dim=dim)
        self.decoder = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, d_in))

    def forward(self, x):
        q, commit = self.quantizer(self.encoder(x))
        return self.decoder(q), commit


def main():
    set_seed(0)
    accelerator = Accelerator()
    x = torch.randn(64, 4, 12)
    loader = DataLoader(TensorDataset(x), batch_size=16, shuffle=True)
    model = PatchVQVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    enc0 = model.encoder[0].weight.detach().clone()
    dec0 = model.decoder[0].weight.detach().clone()
    code0 = model.quantizer.codebook.clone()
    for epoch in range(3):
        for (xb,) in loader:
            recon, commit = model(xb)
            loss = F.mse_loss(recon, xb) + 0.25 * commit
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
    return {"model": model}, {
        "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
        "decoder_changed": not torch.equal(dec0, model.decoder[0].weight),
        "codebook_moved": not torch.equal(code0, model.quantizer.codebook),
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
