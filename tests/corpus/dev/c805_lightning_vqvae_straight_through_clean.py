import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class VectorQuantizerST(nn.Module):
    """Nearest-code quantizer with codebook / commitment losses and a straight-through estimator."""

    def __init__(self, n_codes=32, dim=8, beta=0.25):
        super().__init__()
        self.codebook = nn.Embedding(n_codes, dim)
        nn.init.uniform_(self.codebook.weight, -1.0 / n_codes, 1.0 / n_codes)
        self.beta = beta
        self.register_buffer("usage", torch.zeros(n_codes))

    def forward(self, z):
        b, d, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, d)
        dist = torch.cdist(flat, self.codebook.weight)
        idx = dist.argmin(dim=1)
        z_q = self.codebook(idx).view(b, h, w, d).permute(0, 3, 1, 2)
        codebook_loss = F.mse_loss(z_q, z.detach())
        commitment_loss = F.mse_loss(z, z_q.detach())
        z_q = z + (z_q - z).detach()
        with torch.no_grad():
            self.usage.mul_(0.99).add_(F.one_hot(idx, self.usage.numel()).float().mean(0), alpha=0.01)
        return z_q, codebook_loss + self.beta * commitment_loss


class LitVQVAE(pl.LightningModule):
    def __init__(self, dim=8, lr=2e-3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 16, 4, 2, 1), nn.ReLU(), nn.Conv2d(16, dim, 3, padding=1))
        self.quantizer = VectorQuantizerST(dim=dim)
        self.decoder = nn.Sequential(nn.Conv2d(dim, 16, 3, padding=1), nn.ReLU(),
                                     nn.ConvTranspose2d(16, 1, 4, 2, 1))
        self.lr = lr

    def forward(self, x):
        z_q, vq_loss = self.quantizer(self.encoder(x))
        return self.decoder(z_q), vq_loss

    def training_step(self, batch, batch_idx):
        (x,) = batch
        recon, vq_loss = self(x)
        recon_loss = F.mse_loss(recon, x)
        self.log("recon", recon_loss.item())
        self.log("perplexity", self.perplexity())
        return recon_loss + vq_loss

    @torch.no_grad()
    def perplexity(self):
        p = self.quantizer.usage / self.quantizer.usage.sum().clamp_min(1e-8)
        return torch.exp(-(p * (p + 1e-10).log()).sum()).item()

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    x = torch.rand(32, 1, 8, 8)
    loader = DataLoader(TensorDataset(x), batch_size=8, shuffle=True)
    model = LitVQVAE()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}

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
