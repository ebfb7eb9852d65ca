import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MaskedSelfAttention(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.scale = dim ** -0.5

    def forward(self, x, key_mask):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        attn = torch.softmax(q @ k.transpose(1, 2) * self.scale, dim=-1)
        attn.masked_fill_(~key_mask[:, None, :], 0.0)
        attn = attn / attn.sum(dim=-1, keepdim=True).clamp_min(1e-6)
        return self.out(attn @ v)


class SessionEncoder(nn.Module):
    """Encodes variable-length click sessions (padded with item 0) for next-category prediction."""

    def __init__(self, n_items=50, dim=16, n_categories=6):
        super().__init__()
        self.items = nn.Embedding(n_items, dim, padding_idx=0)
        self.attn = MaskedSelfAttention(dim)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_categories)

    def forward(self, sessions):
        mask = sessions != 0
        h = self.items(sessions)
        h = self.norm(h + self.attn(h, mask))
        pooled = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp_min(1)
        return self.head(pooled)


class SessionModule(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = SessionEncoder()

    def training_step(self, batch, batch_idx):
        sessions, target = batch
        loss = F.cross_entropy(self.encoder(sessions), target)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=2e-3)


def make_loader(n=48, max_len=8):
    g = torch.Generator().manual_seed(59)
    sessions = torch.randint(1, 50, (n, max_len), generator=g)
    lengths = torch.randint(3, max_len + 1, (n,), generator=g)
    sessions[torch.arange(max_len)[None, :] >= lengths[:, None]] = 0
    target = sessions[:, 0] % 6
    return DataLoader(TensorDataset(sessions, target), batch_size=12, shuffle=True, generator=g)


def main():
    pl.seed_everything(59)
    module = SessionModule()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(module, make_loader())
    return {"encoder": module.encoder}

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
