import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LowRankMatmul(torch.autograd.Function):
    """y = (x @ U) @ V, with a hand-written backward that avoids storing x @ U."""

    @staticmethod
    def forward(ctx, x, u, v):
        ctx.save_for_backward(x, u, v)
        return (x @ u) @ v

    @staticmethod
    def backward(ctx, grad_y):
        x, u, v = ctx.saved_tensors
        xu = x @ u
        grad_v = xu.reshape(-1, xu.size(-1)).t() @ grad_y.reshape(-1, grad_y.size(-1))
        grad_xu = grad_y @ v.t()
        grad_u = grad_xu.reshape(-1, grad_xu.size(-1)).t() @ x.reshape(-1, x.size(-1))
        grad_x = grad_xu @ u.t()
        return grad_x, grad_u, grad_v


class LowRankLinear(nn.Module):
    def __init__(self, d_in, d_out, rank):
        super().__init__()
        self.u = nn.Parameter(torch.randn(d_in, rank) / d_in ** 0.5)
        self.v = nn.Parameter(torch.randn(rank, d_out) / rank ** 0.5)
        self.bias = nn.Parameter(torch.zeros(d_out))

    def forward(self, x):
        return LowRankMatmul.apply(x, self.u, self.v) + self.bias


class CompressedMLPMixer(pl.LightningModule):
    def __init__(self, patches=4, dim=24, rank=6, n_cls=3, lr=3e-3):
        super().__init__()
        self.embed = nn.Linear(12, dim)
        self.token_mix = LowRankLinear(patches, patches, rank=2)
        self.channel_mix = LowRankLinear(dim, dim, rank)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_cls)
        self.lr = lr

    def forward(self, x):
        h = self.embed(x)
        h = h + self.token_mix(self.norm1(h).transpose(1, 2)).transpose(1, 2)
        h = h + F.gelu(self.channel_mix(self.norm2(h)))
        return self.head(h.mean(1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def patch_data(n=30):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, 12, generator=g)
    y = (x[:, 0, 0] > 0).long() + (x[:, 1, 1] > 0.5).long()
    return DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True)


def main():
    pl.seed_everything(0)
    model = CompressedMLPMixer()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, patch_data())
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
