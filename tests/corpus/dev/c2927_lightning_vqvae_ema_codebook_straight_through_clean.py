import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class EMAVectorQuantizer(nn.Module):
    """VQ-VAE quantizer whose codebook is an exponential moving average of the assigned encodings."""

    def __init__(self, n_codes=8, dim=4, decay=0.9, eps=1e-5):
        super().__init__()
        self.decay, self.eps = decay, eps
        embed = torch.randn(n_codes, dim)
        self.register_buffer("codebook", embed)
        self.register_buffer("cluster_size", torch.ones(n_codes))
        self.register_buffer("embed_sum", embed.clone())

    def forward(self, z):
        flat = z.reshape(-1, z.shape[-1])
        codes = torch.cdist(flat, self.codebook).argmin(dim=-1)
        z_q = self.codebook[codes].view_as(z)
        if self.training:
            self._ema_update(flat.detach(), codes)
        commitment = F.mse_loss(z, z_q.detach())
        z_q = z + (z_q - z).detach()
        return z_q, commitment, codes

    @torch.no_grad()
    def _ema_update(self, flat, codes):
        onehot = F.one_hot(codes, self.codebook.shape[0]).type_as(flat)
        self.cluster_size.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(onehot.T @ flat, alpha=1 - self.decay)
        n = self.cluster_size.sum()
        size = (self.cluster_size + self.eps) / (n + self.codebook.shape[0] * self.eps) * n
        self.codebook.copy_(self.embed_sum / size[:, None])


class VQVAE(nn.Module):
    def __init__(self, in_dim=12, hidden=16, code_dim=4, n_tokens=3):
        super().__init__()
        self.n_tokens, self.code_dim = n_tokens, code_dim
        self.encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_tokens * code_dim))
        self.quantizer = EMAVectorQuantizer(dim=code_dim)
        self.decoder = nn.Sequential(nn.Linear(n_tokens * code_dim, hidden), nn.ReLU(), nn.Linear(hidden, in_dim))

    def forward(self, x):
        z = self.encoder(x).view(-1, self.n_tokens, self.code_dim)
        z_q, commitment, codes = self.quantizer(z)
        return self.decoder(z_q.flatten(1)), commitment, codes


class VQVAEModule(pl.LightningModule):
    def __init__(self, beta=0.25, lr=3e-3):
        super().__init__()
        self.model = VQVAE()
        self.beta, self.lr = beta, lr

    def training_step(self, batch, batch_idx):
        (x,) = batch
        recon, commitment, codes = self.model(x)
        loss = F.mse_loss(recon, x) + self.beta * commitment
        self.log("train/perplexity", torch.exp(-(F.one_hot(codes, 8).float().mean(0) + 1e-8).log().mean()).detach())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.model.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 12, generator=g)
    loader = DataLoader(TensorDataset(x), batch_size=8, shuffle=True, generator=g)
    module = VQVAEModule()
    enc_before = module.model.encoder[0].weight.detach().clone()
    code_before = module.model.quantizer.codebook.clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, loader)
    facts = {"encoder_changed": not torch.equal(enc_before, module.model.encoder[0].weight),
             "codebook_updated": not torch.equal(code_before, module.model.quantizer.codebook)}
    return {"model": module.model}, facts

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
