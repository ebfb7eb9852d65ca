import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FrameEncoder(nn.Module):
    def __init__(self, in_dim=9, dim=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, dim), nn.GELU(), nn.Linear(dim, dim))

    def forward(self, frames):
        return self.net(frames)


class Codebook(nn.Module):
    def __init__(self, n_codes=64, dim=32):
        super().__init__()
        self.codebook = nn.Embedding(n_codes, dim)

    def forward(self, z_e):
        flat = z_e.reshape(-1, z_e.size(-1))
        dist = torch.cdist(flat, self.codebook.weight)
        indices = dist.argmin(dim=-1).view(z_e.shape[:-1])
        z_q = self.codebook(indices)
        codebook_loss = F.mse_loss(z_q, z_e.detach())
        z_q_st = z_e + (z_q - z_e).detach()
        return z_q_st, indices, codebook_loss


class TokenDecoder(nn.Module):
    """Same interface as the inference decoder: structure tokens in, frames out."""

    def __init__(self, n_codes=64, dim=32, out_dim=9):
        super().__init__()
        self.embed = nn.Embedding(n_codes, dim)
        self.mix = nn.GRU(dim, dim, batch_first=True)
        self.head = nn.Linear(dim, out_dim)

    def forward(self, tokens):
        h, _ = self.mix(self.embed(tokens))
        return self.head(h)


class StructureTokenizer(pl.LightningModule):
    def __init__(self, commit_weight=0.0, lr=1e-3):
        super().__init__()
        self.encoder = FrameEncoder()
        self.quantizer = Codebook()
        self.decoder = TokenDecoder()
        self.commit_weight, self.lr = commit_weight, lr

    def training_step(self, batch, batch_idx):
        (frames,) = batch
        z_e = self.encoder(frames)
        z_q_st, indices, codebook_loss = self.quantizer(z_e)
        recon = self.decoder(indices)
        recon_loss = F.mse_loss(recon, frames)
        loss = recon_loss + codebook_loss
        if self.commit_weight > 0:
            loss = loss + self.commit_weight * F.mse_loss(z_e, z_q_st.detach())
        self.log("train/recon", recon_loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    frames = torch.randn(32, 20, 9, generator=g)
    loader = DataLoader(TensorDataset(frames), batch_size=8, shuffle=True, generator=g)
    model = StructureTokenizer(commit_weight=0.0)  # stage-1 config: no commitment term
    w0 = model.encoder.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.zero_grad(set_to_none=True)
    model.training_step(next(iter(loader)), 0).backward()
    return {"model": model}, {"encoder_changed": not torch.equal(w0, model.encoder.net[0].weight)}

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
