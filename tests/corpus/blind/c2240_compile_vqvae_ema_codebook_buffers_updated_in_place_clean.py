import torch
import torch.nn as nn
import torch.nn.functional as F


class EuclideanCodebook(nn.Module):
    """Codebook updated only by exponential moving averages of the assigned encoder outputs (no gradient)."""

    def __init__(self, dim=8, codebook_size=16, decay=0.8, eps=1e-5):
        super().__init__()
        self.decay, self.eps = decay, eps
        embed = torch.randn(codebook_size, dim)
        self.register_buffer("embed", embed)
        self.register_buffer("embed_avg", embed.clone())
        self.register_buffer("cluster_size", torch.ones(codebook_size))

    def forward(self, x):
        flat = x.reshape(-1, x.size(-1))
        dist = torch.cdist(flat, self.embed)
        embed_ind = dist.argmin(dim=-1)
        quantize = F.embedding(embed_ind, self.embed).view_as(x)
        if self.training:
            with torch.no_grad():
                onehot = F.one_hot(embed_ind, self.embed.size(0)).type(flat.dtype)
                self.cluster_size.data.lerp_(onehot.sum(0), 1 - self.decay)
                self.embed_avg.data.lerp_(onehot.t() @ flat, 1 - self.decay)
                n = self.cluster_size.sum()
                smoothed = (self.cluster_size + self.eps) / (n + self.embed.size(0) * self.eps) * n
                self.embed.data.copy_(self.embed_avg / smoothed.unsqueeze(1))
        return quantize, embed_ind


class VectorQuantize(nn.Module):
    def __init__(self, dim=8, codebook_size=16, commitment_weight=0.25):
        super().__init__()
        self._codebook = EuclideanCodebook(dim, codebook_size)
        self.commitment_weight = commitment_weight

    def forward(self, x):
        quantize, embed_ind = self._codebook(x)
        commit_loss = F.mse_loss(quantize.detach(), x) * self.commitment_weight
        quantize = x + (quantize - x).detach()
        return quantize, embed_ind, commit_loss


class VQAutoEncoder(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 16, 4, stride=2, padding=1), nn.ReLU(), nn.Conv2d(16, dim, 3, padding=1))
        self.vq = VectorQuantize(dim)
        self.decoder = nn.Sequential(nn.ConvTranspose2d(dim, 16, 4, stride=2, padding=1), nn.ReLU(), nn.Conv2d(16, 1, 3, padding=1))

    def forward(self, x):
        z = self.encoder(x).permute(0, 2, 3, 1)
        zq, idx, commit = self.vq(z)
        return self.decoder(zq.permute(0, 3, 1, 2)), commit


def main():
    torch.manual_seed(0)
    model = VQAutoEncoder()
    compiled = torch.compile(model, backend="eager")
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    code0 = model.vq._codebook.embed.clone()
    enc0 = model.encoder[0].weight.detach().clone()
    for _ in range(3):
        x = torch.rand(8, 1, 8, 8)
        recon, commit = compiled(x)
        loss = F.mse_loss(recon, x) + commit
        opt.zero_grad()
        loss.backward()
        opt.step()
    return ({"model": model},
            {"codebook_changed": not torch.equal(code0, model.vq._codebook.embed),
             "encoder_changed": not torch.equal(enc0, model.encoder[0].weight)})

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
