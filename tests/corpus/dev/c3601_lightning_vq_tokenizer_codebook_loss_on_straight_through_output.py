import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class PatchEncoder(nn.Module):
    def __init__(self, ch=3, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(ch, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, dim, 3, 1, 1))

    def forward(self, x):
        return self.net(x)


class PatchDecoder(nn.Module):
    def __init__(self, ch=3, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.ConvTranspose2d(dim, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, ch, 3, 1, 1))

    def forward(self, z):
        return torch.tanh(self.net(z))


class LearnableCodebookQuantizer(nn.Module):
    """Codebook trained by gradient (no EMA), like `learnable_codebook=True, ema_update=False`."""

    def __init__(self, num_codes=32, dim=16, commitment_weight=0.25):
        super().__init__()
        self.codebook = nn.Embedding(num_codes, dim)
        self.codebook.weight.data.uniform_(-1.0 / num_codes, 1.0 / num_codes)
        self.commitment_weight = commitment_weight

    def forward(self, z):
        b, c, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, c)
        dist = torch.cdist(flat, self.codebook.weight)
        idx = dist.argmin(dim=1)
        quantized = self.codebook(idx).view(b, h, w, c).permute(0, 3, 1, 2)
        quantized_st = z + (quantized - z).detach()
        codebook_loss = F.mse_loss(quantized_st, z.detach())
        commit_loss = F.mse_loss(z, quantized.detach())
        return quantized_st, codebook_loss + self.commitment_weight * commit_loss, idx


class VQTokenizer(pl.LightningModule):
    def __init__(self, lr=2e-3):
        super().__init__()
        self.encoder = PatchEncoder()
        self.quantizer = LearnableCodebookQuantizer()
        self.decoder = PatchDecoder()
        self.lr = lr

    def forward(self, x):
        q, vq_loss, idx = self.quantizer(self.encoder(x))
        return self.decoder(q), vq_loss, idx

    def training_step(self, batch, batch_idx):
        (x,) = batch
        recon, vq_loss, idx = self(x)
        loss = F.mse_loss(recon, x) + vq_loss
        self.log("train/codes_used", float(idx.unique().numel()))
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    images = torch.tanh(torch.randn(24, 3, 16, 16))
    loader = DataLoader(TensorDataset(images), batch_size=8, shuffle=True)
    model = VQTokenizer()
    codes0 = model.quantizer.codebook.weight.detach().clone()
    enc0 = model.encoder.net[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=1, logger=False)
    trainer.fit(model, loader)
    return {"model": model}, {
        "codebook_changed": not torch.equal(codes0, model.quantizer.codebook.weight),
        "encoder_changed": not torch.equal(enc0, model.encoder.net[0].weight),
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
