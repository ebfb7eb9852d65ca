import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, x_dim=20, z_dim=4, hidden=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(x_dim, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, z_dim)
        self.logvar = nn.Linear(hidden, z_dim)

    def forward(self, x):
        h = self.body(x)
        return self.mu(h), self.logvar(h)


class LitVAE(L.LightningModule):
    def __init__(self, x_dim=20, z_dim=4, beta=1.0, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.encoder = Encoder(x_dim, z_dim)
        self.decoder = nn.Sequential(nn.Linear(z_dim, 32), nn.ReLU(), nn.Linear(32, x_dim))
        self.beta, self.lr = beta, lr
        self.val_history = []

    def forward(self, x):
        mu, logvar = self.encoder(x)
        q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
        z = q.rsample()
        return self.decoder(z), q

    def elbo_terms(self, x):
        recon, q = self(x)
        prior = torch.distributions.Normal(torch.zeros_like(q.loc), torch.ones_like(q.scale))
        rec = F.mse_loss(recon, x, reduction="sum") / x.size(0)
        kl = torch.distributions.kl_divergence(q, prior).sum(-1).mean()
        return rec, kl

    def training_step(self, batch, batch_idx):
        (x,) = batch
        rec, kl = self.elbo_terms(x)
        loss = rec + self.beta * kl
        self.log_dict({"train/rec": rec.detach(), "train/kl": kl.detach()})
        return {"loss": loss, "kl": kl.detach()}

    def validation_step(self, batch, batch_idx):
        (x,) = batch
        rec, kl = self.elbo_terms(x)
        self.val_history.append((rec + kl).item())

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.lr)
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def main():
    L.seed_everything(0)
    data = torch.randn(64, 20)
    train_loader = DataLoader(TensorDataset(data[:48]), batch_size=16, shuffle=True)
    val_loader = DataLoader(TensorDataset(data[48:]), batch_size=16)
    model = LitVAE()
    trainer = L.Trainer(max_epochs=2, enable_progress_bar=False, logger=False)
    trainer.fit(model, train_loader, val_loader)
    return {"model": model}, {"val_epochs": len(model.val_history)}

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
