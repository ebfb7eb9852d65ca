import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FusedBiasLeakyReLU(torch.autograd.Function):
    """bias add + leaky ReLU in one op, with a hand-written backward (written for the mapping MLP)."""

    @staticmethod
    def forward(ctx, x, bias, negative_slope):
        shape = [1, -1] + [1] * (x.dim() - 2)
        pre = x + bias.view(shape)
        ctx.save_for_backward(pre)
        ctx.negative_slope = negative_slope
        return F.leaky_relu(pre, negative_slope)

    @staticmethod
    def backward(ctx, grad_out):
        pre, = ctx.saved_tensors
        grad_pre = grad_out * torch.where(pre >= 0, 1.0, ctx.negative_slope)
        grad_bias = grad_pre.sum(dim=0)
        return grad_pre, grad_bias, None


class FusedLinear(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.linear = nn.Linear(in_dim, out_dim, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_dim))

    def forward(self, x):
        return FusedBiasLeakyReLU.apply(self.linear(x), self.bias, 0.2)


class FusedConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x):
        return FusedBiasLeakyReLU.apply(self.conv(x), self.bias, 0.2)


class PatchDiscriminator(pl.LightningModule):
    def __init__(self, ch=16):
        super().__init__()
        self.convs = nn.Sequential(FusedConv(3, ch), FusedConv(ch, ch))
        self.fc = FusedLinear(ch, ch)
        self.out = nn.Linear(ch, 1)

    def forward(self, img):
        h = self.convs(img).mean(dim=(2, 3))
        return self.out(self.fc(h)).squeeze(-1)

    def training_step(self, batch, batch_idx):
        img, is_real = batch
        loss = F.binary_cross_entropy_with_logits(self(img), is_real)
        self.log("d_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=2e-4, betas=(0.0, 0.99))


def main():
    pl.seed_everything(0)
    img = torch.randn(16, 3, 8, 8)
    is_real = (torch.arange(16) % 2).float()
    loader = DataLoader(TensorDataset(img, is_real), batch_size=8, shuffle=True)
    model = PatchDiscriminator()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, loader)
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
