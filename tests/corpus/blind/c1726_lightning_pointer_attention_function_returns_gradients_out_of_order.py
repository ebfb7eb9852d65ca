import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ScaledTanhAttention(torch.autograd.Function):
    """attn = tanh(q k^T), out = attn v ; custom backward to avoid storing the pre-activation."""

    @staticmethod
    def forward(ctx, q, k, v):
        attn = torch.tanh(q @ k.transpose(-2, -1))
        ctx.save_for_backward(q, k, v, attn)
        return attn @ v, attn

    @staticmethod
    def backward(ctx, grad_out, grad_attn):
        q, k, v, attn = ctx.saved_tensors
        grad_attn = grad_attn + grad_out @ v.transpose(-2, -1)
        grad_pre = grad_attn * (1 - attn ** 2)
        grad_q = grad_pre @ k
        grad_k = grad_pre.transpose(-2, -1) @ q
        grad_v = attn.transpose(-2, -1) @ grad_out
        return grad_q, grad_v, grad_k


class PointerEncoder(nn.Module):
    """Encodes a set of items; queries come from slots, keys/values from the items."""

    def __init__(self, in_dim=6, dim=16, n_slots=3, value_dim=8):
        super().__init__()
        self.items = nn.Linear(in_dim, dim)
        self.slots = nn.Parameter(torch.randn(n_slots, dim) * 0.1)
        self.to_v = nn.Linear(dim, value_dim)

    def forward(self, x):
        k = self.items(x)
        q = self.slots.unsqueeze(0).expand(x.size(0), -1, -1)
        out, attn = ScaledTanhAttention.apply(q, k, self.to_v(k))
        return out.flatten(1), attn


class SetRanker(pl.LightningModule):
    def __init__(self, lr=3e-3):
        super().__init__()
        self.encoder = PointerEncoder()
        self.head = nn.Linear(24, 4)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        x, y = batch
        feats, _ = self.encoder(x)
        loss = F.cross_entropy(self.head(feats), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 10, 6, generator=g)
    y = torch.randint(0, 4, (32,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)
    model = SetRanker()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}

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
