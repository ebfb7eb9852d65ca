import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, dim=64, z=8):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(dim, 32), nn.LeakyReLU(0.2))
        self.mu = nn.Linear(32, z)
        self.logvar = nn.Linear(32, z)

    def forward(self, x):
        h = self.body(x)
        return self.mu(h), self.logvar(h)


class Decoder(nn.Module):
    def __init__(self, dim=64, z=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z, 32), nn.ReLU(), nn.Linear(32, dim), nn.Tanh())

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, dim=64):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(dim, 32), nn.LeakyReLU(0.2))
        self.cls = nn.Linear(32, 1)

    def forward(self, x):
        f = self.features(x)
        return self.cls(f), f


class VAEGAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder, self.disc = Encoder(), Decoder(), Discriminator()

    def reconstruct(self, x):
        mu, logvar = self.encoder(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return self.decoder(z), mu, logvar


def kl_term(mu, logvar):
    return -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())


def train_epoch(fabric, model, opt_vae, opt_disc, loader, gamma=0.5):
    for (x,) in loader:
        recon, mu, logvar = model.reconstruct(x)
        logits_real, feat_real = model.disc(x)
        logits_fake, feat_fake = model.disc(recon)
        # feature-wise (learned similarity) reconstruction loss + prior
        enc_loss = F.mse_loss(feat_fake, feat_real.detach()) + kl_term(mu, logvar)
        dec_loss = gamma * F.mse_loss(feat_fake, feat_real.detach()) + F.binary_cross_entropy_with_logits(
            logits_fake, torch.ones_like(logits_fake))
        opt_vae.zero_grad()
        fabric.backward(enc_loss)
        fabric.backward(dec_loss)
        opt_vae.step()
        real_logits, _ = model.disc(x)
        fake_logits, _ = model.disc(recon.detach())
        d_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) \
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        opt_disc.zero_grad()
        fabric.backward(d_loss)
        opt_disc.step()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    data = torch.tanh(torch.randn(32, 64))
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(data), batch_size=8, shuffle=True))
    model = VAEGAN()
    opt_vae = torch.optim.Adam(list(model.encoder.parameters()) + list(model.decoder.parameters()), lr=3e-4)
    opt_disc = torch.optim.Adam(model.disc.parameters(), lr=3e-4)
    model, opt_vae, opt_disc = fabric.setup(model, opt_vae, opt_disc)
    train_epoch(fabric, model, opt_vae, opt_disc, loader)
    return {"model": model.module}

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
