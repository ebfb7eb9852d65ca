import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class VAE(nn.Module):
    def __init__(self, x_dim=20, z_dim=4, hidden=32):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(x_dim, hidden), nn.ReLU(), nn.Linear(hidden, 2 * z_dim))
        self.decoder = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, x_dim))

    def forward(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z), mu, logvar, z


class TCDiscriminator(nn.Module):
    def __init__(self, z_dim=4, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 2))

    def forward(self, z):
        return self.net(z)


def permute_dims(z):
    return torch.stack([col[torch.randperm(z.size(0))] for col in z.t()], dim=1)


class FactorVAE(pl.LightningModule):
    def __init__(self, gamma=6.0, lr_vae=1e-3, lr_d=1e-4):
        super().__init__()
        self.automatic_optimization = False
        self.vae = VAE()
        self.D = TCDiscriminator()
        self.gamma, self.lr_vae, self.lr_d = gamma, lr_vae, lr_d

    def training_step(self, batch, batch_idx):
        x1, x2 = batch
        opt_vae, opt_d = self.optimizers()
        x_recon, mu, logvar, z = self.vae(x1)
        recon = F.mse_loss(x_recon, x1, reduction="sum") / x1.size(0)
        kld = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1).mean()
        D_z = self.D(z)
        vae_tc = (D_z[:, 0] - D_z[:, 1]).mean()
        vae_loss = recon + kld + self.gamma * vae_tc
        opt_vae.zero_grad()
        self.manual_backward(vae_loss, retain_graph=True)
        opt_vae.step()

        z_prime = self.vae(x2)[3]
        z_pperm = permute_dims(z_prime).detach()
        D_z_pperm = self.D(z_pperm)
        zeros = torch.zeros(x1.size(0), dtype=torch.long)
        ones = torch.ones(x1.size(0), dtype=torch.long)
        D_tc_loss = 0.5 * (F.cross_entropy(D_z, zeros) + F.cross_entropy(D_z_pperm, ones))
        opt_d.zero_grad()
        self.manual_backward(D_tc_loss)
        opt_d.step()
        self.log_dict({"vae_loss": vae_loss.item(), "d_tc_loss": D_tc_loss.item()})

    def configure_optimizers(self):
        opt_vae = torch.optim.Adam(self.vae.parameters(), lr=self.lr_vae, betas=(0.9, 0.999))
        opt_d = torch.optim.Adam(self.D.parameters(), lr=self.lr_d, betas=(0.5, 0.9))
        return [opt_vae, opt_d]


def main():
    pl.seed_everything(0)
    x = torch.randn(32, 20)
    loader = DataLoader(TensorDataset(x, x[torch.randperm(32)]), batch_size=8, shuffle=True)
    model = FactorVAE()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
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
