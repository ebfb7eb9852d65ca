import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class VectorQuantizeST(torch.autograd.Function):
    """Nearest-code lookup with a straight-through gradient for the encoder output."""

    @staticmethod
    def forward(ctx, z, codebook):
        flat = z.reshape(-1, codebook.size(1))
        idx = torch.cdist(flat, codebook).argmin(1)
        ctx.save_for_backward(idx)
        ctx.codebook_shape = codebook.shape
        return codebook[idx].reshape(z.shape)

    @staticmethod
    def backward(ctx, grad_out):
        (idx,) = ctx.saved_tensors
        grad_z = grad_out.clone()
        return grad_z, None


class VQVAE(nn.Module):
    def __init__(self, n_codes=16, dim=8, beta=0.25):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 16, 4, 2, 1), nn.ReLU(), nn.Conv2d(16, dim, 3, 1, 1))
        self.decoder = nn.Sequential(nn.ConvTranspose2d(dim, 16, 4, 2, 1), nn.ReLU(), nn.Conv2d(16, 1, 3, 1, 1))
        self.codebook = nn.Parameter(torch.randn(n_codes, dim) * 0.5)
        self.beta = beta

    def forward(self, x):
        z = self.encoder(x).permute(0, 2, 3, 1)
        z_q = VectorQuantizeST.apply(z, self.codebook)
        codebook_loss = F.mse_loss(z_q, z.detach())
        commit_loss = F.mse_loss(z, z_q.detach())
        recon = self.decoder(z_q.permute(0, 3, 1, 2))
        return recon, codebook_loss + self.beta * commit_loss


def glyphs(n=32):
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(n, 1, 8, 8, generator=g) > 0.6).float()
    x[:, :, 3:5, :] = 1.0
    return TensorDataset(x)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = VQVAE()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    model, optimizer = fabric.setup(net, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(glyphs(), batch_size=8, shuffle=True))
    code0 = net.codebook.detach().clone()
    for epoch in range(2):
        for (x,) in loader:
            recon, vq_loss = model(x)
            loss = F.binary_cross_entropy_with_logits(recon, x) + vq_loss
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"model": net}, {"codebook_changed": not torch.equal(code0, net.codebook)}

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
