import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ResidualVQ(nn.Module):
    def __init__(self, n_q, codebook_size, dim):
        super().__init__()
        self.codebooks = nn.ModuleList([nn.Embedding(codebook_size, dim) for _ in range(n_q)])

    def forward(self, z):
        b, d, t = z.shape
        residual = z.permute(0, 2, 1).reshape(-1, d)
        quantized_out = torch.zeros_like(residual)
        commit = codebook = 0.0
        for cb in self.codebooks:
            dist = torch.cdist(residual, cb.weight)
            q = cb(dist.argmin(-1))
            codebook = codebook + F.mse_loss(q, residual.detach())
            commit = commit + F.mse_loss(residual, q.detach())
            quantized_out = quantized_out + residual + (q - residual).detach()
            residual = residual - q.detach()
        return quantized_out.view(b, t, d).permute(0, 2, 1), commit, codebook


class SoundStreamLite(nn.Module):
    def __init__(self, dim=16, n_q=3, codebook_size=32):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv1d(1, 16, 7, padding=3), nn.ELU(), nn.Conv1d(16, dim, 4, stride=4))
        self.quantizer = ResidualVQ(n_q, codebook_size, dim)
        self.decoder = nn.Sequential(nn.ConvTranspose1d(dim, 16, 4, stride=4), nn.ELU(), nn.Conv1d(16, 1, 7, padding=3))

    def forward(self, wav):
        z = self.encoder(wav)
        zq, commit, codebook = self.quantizer(z)
        return self.decoder(zq), commit, codebook


class WaveDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(1, 8, 15, stride=4, padding=7), nn.LeakyReLU(0.2),
                                 nn.Conv1d(8, 16, 15, stride=4, padding=7), nn.LeakyReLU(0.2), nn.Conv1d(16, 1, 3, padding=1))

    def forward(self, wav):
        return self.net(wav)


def multi_scale_spectral_loss(x, y, scales=(16, 32)):
    loss = 0.0
    for n in scales:
        sx = torch.stft(x.squeeze(1), n, n // 4, window=torch.hann_window(n), return_complex=True).abs()
        sy = torch.stft(y.squeeze(1), n, n // 4, window=torch.hann_window(n), return_complex=True).abs()
        loss = loss + (sx - sy).abs().mean() + (torch.log(sx + 1e-5) - torch.log(sy + 1e-5)).abs().mean()
    return loss


class CodecGAN(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.automatic_optimization = False
        self.codec = SoundStreamLite()
        self.disc = WaveDiscriminator()
        self.cfg = cfg

    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        (wav,) = batch
        recon, commit, codebook = self.codec(wav)
        opt_d.zero_grad()
        d_loss = F.relu(1 - self.disc(wav)).mean() + F.relu(1 + self.disc(recon.detach())).mean()
        self.manual_backward(d_loss)
        opt_d.step()
        opt_g.zero_grad()
        adv = -self.disc(recon).mean()
        g_loss = (multi_scale_spectral_loss(recon, wav) + self.cfg["adv_w"] * adv
                  + self.cfg["commit_w"] * commit + codebook)
        self.manual_backward(g_loss)
        opt_g.step()
        self.log_dict({"d_loss": d_loss.item(), "g_loss": g_loss.item()})

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.codec.parameters(), lr=self.cfg["lr"], betas=(0.5, 0.9))
        opt_d = torch.optim.Adam(self.disc.parameters(), lr=self.cfg["lr"], betas=(0.5, 0.9))
        return [opt_g, opt_d]


def main():
    pl.seed_everything(0)
    cfg = {"lr": 1e-3, "adv_w": 0.1, "commit_w": 0.25}
    t = torch.linspace(0, 1, 128)
    freqs = torch.rand(16, 1, 1) * 20 + 5
    wav = torch.sin(2 * torch.pi * freqs * t) * 0.5
    loader = DataLoader(TensorDataset(wav), batch_size=4, shuffle=True)
    model = CodecGAN(cfg)
    enc0 = model.codec.encoder[0].weight.detach().clone()
    cb0 = model.codec.quantizer.codebooks[0].weight.detach().clone()
    disc0 = model.disc.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {
        "encoder_changed": not torch.equal(enc0, model.codec.encoder[0].weight),
        "codebook_changed": not torch.equal(cb0, model.codec.quantizer.codebooks[0].weight),
        "discriminator_changed": not torch.equal(disc0, model.disc.net[0].weight),
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
