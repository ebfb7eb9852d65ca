import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 24, "latent": 8, "n_codes": 16, "n_levels": 2, "beta": 0.25, "lr": 2e-3, "epochs": 2}


class Quantize(nn.Module):
    """One level of a residual quantizer: nearest code plus the straight-through output."""

    def __init__(self, n_codes, dim):
        super().__init__()
        self.embedding = nn.Embedding(n_codes, dim)
        nn.init.uniform_(self.embedding.weight, -0.5, 0.5)

    def forward(self, x):
        dist = torch.cdist(x, self.embedding.weight)
        ids = dist.argmin(dim=-1)
        emb = self.embedding(ids).detach()
        st = x + (emb - x).detach()
        return st, emb, ids


class ResidualQuantizer(nn.Module):
    def __init__(self, n_levels, n_codes, dim):
        super().__init__()
        self.levels = nn.ModuleList(Quantize(n_codes, dim) for _ in range(n_levels))

    def forward(self, z):
        residual, out, residuals, embs, ids = z, 0.0, [], [], []
        for q in self.levels:
            st, emb, idx = q(residual)
            residuals.append(residual)
            embs.append(emb)
            ids.append(idx)
            out = out + st
            residual = residual - emb
        return out, residuals, embs, torch.stack(ids, -1)


def rqvae_loss(residuals, embs, beta):
    """Codebook term moves the codes, commitment term moves the encoder (per level)."""
    loss = 0.0
    for r, e in zip(residuals, embs):
        loss = loss + F.mse_loss(e, r.detach()) + beta * F.mse_loss(r, e.detach())
    return loss


class RQVAE(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.encoder = nn.Sequential(nn.Linear(cfg["in_dim"], 32), nn.ReLU(), nn.Linear(32, cfg["latent"]))
        self.rq = ResidualQuantizer(cfg["n_levels"], cfg["n_codes"], cfg["latent"])
        self.decoder = nn.Sequential(nn.Linear(cfg["latent"], 32), nn.ReLU(), nn.Linear(32, cfg["in_dim"]))

    def forward(self, x):
        z = self.encoder(x)
        zq, residuals, embs, ids = self.rq(z)
        return self.decoder(zq), residuals, embs, ids

    def training_step(self, batch, batch_idx):
        (x,) = batch
        x_hat, residuals, embs, ids = self(x)
        recon = F.mse_loss(x_hat, x)
        vq = rqvae_loss(residuals, embs, self.cfg["beta"])
        self.log_dict({"recon": recon.item(), "vq": vq.item(), "codes_used": float(ids.unique().numel())})
        return {"loss": recon + vq}

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg["lr"])
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.9)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


def item_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, cfg["in_dim"], generator=g)
    return DataLoader(TensorDataset(x), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = RQVAE(CFG)
    codes0 = model.rq.levels[0].embedding.weight.detach().clone()
    enc0 = model.encoder[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False)
    trainer.fit(model, item_loader(CFG))
    return {"model": model}, {
        "codebook_changed": not torch.equal(codes0, model.rq.levels[0].embedding.weight),
        "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
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
