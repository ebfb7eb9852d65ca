import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class VectorQuantize(nn.Module):
    def __init__(self, n_codes=32, dim=16):
        super().__init__()
        self.codebook = nn.Embedding(n_codes, dim)

    def forward(self, x):
        flat = x.transpose(1, 2).reshape(-1, x.size(1))
        idx = torch.cdist(flat, self.codebook.weight).argmin(-1)
        quantized = self.codebook(idx).view(x.size(0), x.size(2), -1).transpose(1, 2)
        quantized = x.detach() + (quantized - x.detach())
        return quantized, idx


class ResidualVQ(nn.Module):
    def __init__(self, n_layers=2, dim=16):
        super().__init__()
        self.layers = nn.ModuleList(VectorQuantize(dim=dim) for _ in range(n_layers))

    def forward(self, x):
        residual, out, firsts = x, 0.0, None
        for i, layer in enumerate(self.layers):
            q, _ = layer(residual)
            firsts = q if i == 0 else firsts
            out = out + q
            residual = residual - q.detach()
        return out, firsts


class SpeechCodec(pl.LightningModule):
    def __init__(self, dim=16, sem_dim=12, distill_weight=1.0, commit_weight=0.0):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv1d(1, 16, 8, stride=4, padding=2), nn.ELU(), nn.Conv1d(16, dim, 3, padding=1))
        self.rvq = ResidualVQ(dim=dim)
        self.decoder = nn.Sequential(nn.ConvTranspose1d(dim, 16, 8, stride=4, padding=2), nn.ELU(), nn.Conv1d(16, 1, 3, padding=1))
        self.semantic_proj = nn.Linear(dim, sem_dim)
        self.distill_weight, self.commit_weight = distill_weight, commit_weight

    def training_step(self, batch, batch_idx):
        wav, teacher_feats = batch
        z = self.encoder(wav)
        q, q_first = self.rvq(z)
        recon = F.l1_loss(self.decoder(q), wav)
        distill = 1 - F.cosine_similarity(self.semantic_proj(q_first.transpose(1, 2)), teacher_feats, dim=-1).mean()
        codebook = F.mse_loss(q, z.detach())
        loss = recon + self.distill_weight * distill + codebook
        if self.commit_weight > 0:
            loss = loss + self.commit_weight * F.mse_loss(z, q.detach())
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=1e-3)


def main():
    pl.seed_everything(0)
    wav = torch.randn(16, 1, 128) * 0.3
    teacher_feats = torch.randn(16, 32, 12)
    loader = DataLoader(TensorDataset(wav, teacher_feats), batch_size=8, shuffle=True)
    model = SpeechCodec()
    w0 = model.encoder[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.zero_grad(set_to_none=True)
    model.training_step(next(iter(loader)), 0).backward()
    return {"model": model}, {"encoder_changed": not torch.equal(w0, model.encoder[0].weight)}

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
