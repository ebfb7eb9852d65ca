import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class VectorQuantizer(nn.Module):
    def __init__(self, num_codes=16, dim=8, beta=0.25):
        super().__init__()
        self.codebook = nn.Embedding(num_codes, dim)
        self.codebook.weight.data.uniform_(-1.0 / num_codes, 1.0 / num_codes)
        self.beta = beta

    def forward(self, z):
        flat = z.permute(0, 2, 1).reshape(-1, z.shape[1])
        dist = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ self.codebook.weight.t()
                + self.codebook.weight.pow(2).sum(1))
        codes = dist.argmin(1)
        quantized = self.codebook(codes).view(z.shape[0], z.shape[2], -1).permute(0, 2, 1)
        quantized = z + (quantized - z).detach()
        codebook_loss = F.mse_loss(quantized, z.detach())
        commitment_loss = F.mse_loss(z, quantized.detach())
        return quantized, codebook_loss + self.beta * commitment_loss, codes


class AudioCodec(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv1d(1, 16, 4, 2, 1), nn.ELU(), nn.Conv1d(16, dim, 4, 2, 1))
        self.quantizer = VectorQuantizer(dim=dim)
        self.decoder = nn.Sequential(nn.ConvTranspose1d(dim, 16, 4, 2, 1), nn.ELU(), nn.ConvTranspose1d(16, 1, 4, 2, 1))

    def forward(self, wav):
        z = self.encoder(wav)
        zq, vq_loss, codes = self.quantizer(z)
        return self.decoder(zq), vq_loss, codes


def main():
    fabric = Fabric(accelerator="cpu", devices=1, precision="32-true")
    fabric.seed_everything(0)
    model = AudioCodec()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    wav = torch.sin(torch.linspace(0, 40, 64))[None, None].repeat(8, 1, 1) + 0.05 * torch.randn(8, 1, 64)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(wav), batch_size=4))
    model.train()
    for (x,) in loader:
        optimizer.zero_grad()
        recon, vq_loss, _ = model(x)
        loss = F.l1_loss(recon, x) + vq_loss
        fabric.backward(loss)
        optimizer.step()
    return {"codebook": model.module.quantizer.codebook, "encoder": model.module.encoder}

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
