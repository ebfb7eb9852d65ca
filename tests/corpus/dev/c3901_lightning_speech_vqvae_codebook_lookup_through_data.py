import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class VectorQuantizer(nn.Module):
    def __init__(self, n_codes=16, dim=8, beta=0.25):
        super().__init__()
        self.codebook = nn.Embedding(n_codes, dim)
        self.codebook.weight.data.uniform_(-1.0 / n_codes, 1.0 / n_codes)
        self.beta = beta

    def forward(self, z):
        b, c, t = z.shape
        flat = z.permute(0, 2, 1).reshape(-1, c)
        dist = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ self.codebook.weight.t()
                + self.codebook.weight.pow(2).sum(1))
        idx = dist.argmin(1)
        z_q = self.codebook.weight.data[idx].view(b, t, c).permute(0, 2, 1)
        codebook_loss = F.mse_loss(z_q, z.detach())
        commit_loss = F.mse_loss(z, z_q.detach())
        quantized = z + (z_q - z).detach()
        return quantized, codebook_loss + self.beta * commit_loss, idx


class SpeechVQVAE(pl.LightningModule):
    def __init__(self, n_mels=6, dim=8, lr=3e-3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv1d(n_mels, 16, 3, padding=1), nn.ReLU(), nn.Conv1d(16, dim, 3, padding=1))
        self.vq = VectorQuantizer(dim=dim)
        self.decoder = nn.Sequential(nn.Conv1d(dim, 16, 3, padding=1), nn.ReLU(), nn.Conv1d(16, n_mels, 3, padding=1))
        self.lr = lr

    def forward(self, x):
        q, vq_loss, idx = self.vq(self.encoder(x))
        return self.decoder(q), vq_loss, idx

    def training_step(self, batch, batch_idx):
        (mel,) = batch
        recon, vq_loss, idx = self(mel)
        loss = F.mse_loss(recon, mel) + vq_loss
        self.log("codes_used", float(idx.unique().numel()))
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def make_loader(n=32, t=12):
    g = torch.Generator().manual_seed(0)
    mel = torch.randn(n, 6, t, generator=g).cumsum(-1) * 0.3
    return DataLoader(TensorDataset(mel), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = SpeechVQVAE()
    enc0 = model.encoder[0].weight.detach().clone()
    code0 = model.vq.codebook.weight.detach().clone()
    dec0 = model.decoder[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, make_loader())
    return {"model": model}, {
        "codebook_changed": not torch.equal(code0, model.vq.codebook.weight),
        "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
        "decoder_changed": not torch.equal(dec0, model.decoder[0].weight),
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
