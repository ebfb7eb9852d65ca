import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, in_dim=16, hidden=32, z_dim=4):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2))
        self.mu = nn.Linear(hidden, z_dim)
        self.logvar = nn.Linear(hidden, z_dim)

    def forward(self, x):
        h = self.body(x)
        return self.mu(h), self.logvar(h).clamp(-6, 6)


class Decoder(nn.Module):
    def __init__(self, z_dim=4, hidden=32, out_dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, out_dim), nn.Tanh())

    def forward(self, z):
        return self.net(z)


def kl(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1).mean()


class IntrospectiveRefiner(pl.LightningModule):
    """Introspective adversarial fine-tuning: the encoder's KL acts as the critic of the decoder's samples."""

    def __init__(self, margin=4.0, alpha=0.5, z_dim=4):
        super().__init__()
        self.automatic_optimization = False
        self.encoder, self.decoder = Encoder(z_dim=z_dim), Decoder(z_dim=z_dim)
        self.margin, self.alpha, self.z_dim = margin, alpha, z_dim

    def training_step(self, batch, batch_idx):
        opt_e, opt_d = self.optimizers()
        (x,) = batch
        z_p = torch.randn(x.shape[0], self.z_dim)
        x_p = self.decoder(z_p)

        # encoder (critic) step: low KL for real data, KL above the margin for generated samples
        mu, logvar = self.encoder(x)
        mu_p, logvar_p = self.encoder(x_p.detach())
        loss_e = kl(mu, logvar) + self.alpha * F.relu(self.margin - kl(mu_p, logvar_p))
        opt_e.zero_grad()
        self.manual_backward(loss_e)
        opt_e.step()

        # decoder (generator) step: make generated samples look real to the encoder
        mu_fake, logvar_fake = self.encoder(x_p.detach())
        loss_d = self.alpha * kl(mu_fake, logvar_fake)
        opt_d.zero_grad()
        self.manual_backward(loss_d)
        opt_d.step()
        self.log_dict({"loss_e": loss_e.detach(), "loss_d": loss_d.detach()})

    def configure_optimizers(self):
        opt_e = torch.optim.Adam(self.encoder.parameters(), lr=2e-3, betas=(0.9, 0.999))
        opt_d = torch.optim.Adam(self.decoder.parameters(), lr=2e-3, betas=(0.9, 0.999))
        return [opt_e, opt_d]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    data = torch.tanh(torch.randn(32, 16, generator=g) @ torch.randn(16, 16, generator=g) * 0.3)
    loader = DataLoader(TensorDataset(data), batch_size=8, shuffle=True, generator=g)
    module = IntrospectiveRefiner()
    dec_before = module.decoder.net[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, loader)
    facts = {"decoder_changed": not torch.equal(dec_before, module.decoder.net[0].weight)}
    return {"encoder": module.encoder, "decoder": module.decoder}, facts

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
