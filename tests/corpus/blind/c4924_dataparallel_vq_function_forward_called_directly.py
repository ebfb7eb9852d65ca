import torch
import torch.nn as nn
import torch.nn.functional as F


class VectorQuantizeST(torch.autograd.Function):
    """Nearest-code lookup; straight-through gradient to the encoder output."""

    @staticmethod
    def forward(ctx, z, codebook):
        idx = torch.cdist(z, codebook).argmin(-1)
        return codebook[idx]

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


class VQAutoencoder(nn.Module):
    def __init__(self, in_dim=16, latent=4, n_codes=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, latent))
        self.codebook = nn.Parameter(torch.randn(n_codes, latent))
        self.decoder = nn.Sequential(nn.Linear(latent, 32), nn.ReLU(), nn.Linear(32, in_dim))

    def forward(self, x):
        z = self.encoder(x)
        zq = VectorQuantizeST.forward(None, z, self.codebook)
        vq_loss = F.mse_loss(self.codebook[torch.cdist(z.detach(), self.codebook).argmin(-1)], z.detach())
        return self.decoder(zq), vq_loss


def build_optimizer(model, cfg):
    net = model.module
    return torch.optim.Adam([
        {"params": list(net.encoder.parameters()) + list(net.decoder.parameters()), "lr": cfg["lr"]},
        {"params": [net.codebook], "lr": cfg["lr"] * cfg["codebook_lr_mult"]},
    ])


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    net = VQAutoencoder()
    model = nn.DataParallel(net)
    optimizer = build_optimizer(model, {"lr": 1e-3, "codebook_lr_mult": 10})
    enc0 = net.encoder[0].weight.detach().clone()
    for _ in range(5):
        x = torch.randn(16, 16, generator=g)
        recon, vq_loss = model(x)
        loss = F.mse_loss(recon, x) + vq_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"net": net}, {"encoder_changed": not torch.equal(enc0, net.encoder[0].weight)}

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
