import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvVAE(nn.Module):
    def __init__(self, latent_dim=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.LeakyReLU(),
                                     nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.LeakyReLU(), nn.Flatten())
        self.fc_mu = nn.Linear(16 * 4 * 4, latent_dim)
        self.fc_var = nn.Linear(16 * 4 * 4, latent_dim)
        self.decoder_input = nn.Linear(latent_dim, 16 * 4 * 4)
        self.decoder = nn.Sequential(nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.LeakyReLU(),
                                     nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1), nn.Sigmoid())
        self.latent_dim = latent_dim

    def encode(self, x):
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_var(h)

    def decode(self, z):
        return self.decoder(self.decoder_input(z).view(-1, 16, 4, 4))

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return eps * std + mu

    def forward(self, x):
        mu, log_var = self.encode(x)
        return self.decode(self.reparameterize(mu, log_var)), mu, log_var


class LitVAE(pl.LightningModule):
    def __init__(self, kld_weight=0.005, lr=5e-3):
        super().__init__()
        self.model = ConvVAE()
        self.kld_weight, self.lr = kld_weight, lr
        self.samples = None

    def training_step(self, batch, batch_idx):
        (x,) = batch
        recons, mu, log_var = self.model(x)
        recons_loss = F.mse_loss(recons, x)
        kld_loss = torch.mean(-0.5 * torch.sum(1 + log_var - mu ** 2 - log_var.exp(), dim=1))
        loss = recons_loss + self.kld_weight * kld_loss
        self.log_dict({"recon": recons_loss.item(), "kld": kld_loss.item()})
        return loss

    @torch.no_grad()
    def sample(self, n):
        z = torch.randn(n, self.model.latent_dim)
        return self.model.decode(z)

    def on_train_epoch_end(self):
        self.samples = self.sample(4).cpu()

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)}


def main():
    pl.seed_everything(0)
    loader = DataLoader(TensorDataset(torch.rand(16, 1, 16, 16)), batch_size=8, shuffle=True)
    model = LitVAE()
    enc0 = model.model.fc_mu.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model},
            {"encoder_changed": not torch.equal(enc0, model.model.fc_mu.weight),
             "samples_require_grad": model.samples.requires_grad})

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
