import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 32, "latent": 8, "n_codes": 16, "beta": 0.25, "gan_weight": 0.1, "lr": 2e-3}


class DiscBlock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, 3, padding=1)

    def forward(self, x):
        return F.leaky_relu(self.conv(x), 0.2)


class PatchDiscriminator(nn.Module):
    def __init__(self, channels=(1, 8, 16)):
        super().__init__()
        self.blocks = [DiscBlock(a, b) for a, b in zip(channels[:-1], channels[1:])]
        self.head = nn.Conv1d(channels[-1], 1, 1)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


class VQGAN(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.encoder = nn.Sequential(nn.Linear(cfg["in_dim"], 32), nn.ReLU(), nn.Linear(32, cfg["latent"]))
        self.codebook = nn.Embedding(cfg["n_codes"], cfg["latent"])
        self.decoder = nn.Sequential(nn.Linear(cfg["latent"], 32), nn.ReLU(), nn.Linear(32, cfg["in_dim"]))
        self.discriminator = PatchDiscriminator()

    def quantize(self, z):
        idx = torch.cdist(z, self.codebook.weight).argmin(-1)
        zq = self.codebook(idx)
        vq_loss = F.mse_loss(zq, z.detach()) + self.cfg["beta"] * F.mse_loss(z, zq.detach())
        return z + (zq - z).detach(), vq_loss

    def training_step(self, batch, batch_idx):
        (x,) = batch
        opt_g, opt_d = self.optimizers()
        zq, vq_loss = self.quantize(self.encoder(x))
        x_hat = self.decoder(zq)
        g_loss = F.l1_loss(x_hat, x) + vq_loss - self.cfg["gan_weight"] * self.discriminator(x_hat.unsqueeze(1)).mean()
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        real, fake = self.discriminator(x.unsqueeze(1)), self.discriminator(x_hat.detach().unsqueeze(1))
        d_loss = F.relu(1 - real).mean() + F.relu(1 + fake).mean()
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()

    def configure_optimizers(self):
        gen = list(self.encoder.parameters()) + list(self.codebook.parameters()) + list(self.decoder.parameters())
        return [torch.optim.Adam(gen, lr=self.cfg["lr"], betas=(0.5, 0.9)),
                torch.optim.Adam(self.discriminator.parameters(), lr=self.cfg["lr"], betas=(0.5, 0.9))]


def signal_loader(cfg, n=48):
    g = torch.Generator().manual_seed(0)
    t = torch.linspace(0, 1, cfg["in_dim"])
    x = torch.sin(2 * torch.pi * (1 + 3 * torch.rand(n, 1, generator=g)) * t)
    return DataLoader(TensorDataset(x), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = VQGAN(CFG)
    blk0 = model.discriminator.blocks[0].conv.weight.detach().clone()
    head0 = model.discriminator.head.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, signal_loader(CFG))
    return {"model": model}, {
        "disc_blocks_changed": not torch.equal(blk0, model.discriminator.blocks[0].conv.weight),
        "disc_head_changed": not torch.equal(head0, model.discriminator.head.weight),
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
