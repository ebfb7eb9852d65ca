import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class FusedBiasGelu(torch.autograd.Function):
    """y = gelu(x + bias), computed in one pass and differentiated by hand (tanh approximation)."""

    @staticmethod
    def forward(ctx, x, bias, approximate="tanh"):
        ctx.save_for_backward(x, bias)
        ctx.approximate = approximate
        return F.gelu(x + bias, approximate=approximate)

    @staticmethod
    def backward(ctx, grad_out):
        x, bias = ctx.saved_tensors
        z = x + bias
        k = math.sqrt(2.0 / math.pi)
        inner = k * (z + 0.044715 * z ** 3)
        tanh_inner = torch.tanh(inner)
        dgelu = 0.5 * (1 + tanh_inner) + 0.5 * z * (1 - tanh_inner ** 2) * k * (1 + 3 * 0.044715 * z ** 2)
        grad_z = grad_out * dgelu
        return grad_z, grad_z.sum(dim=0)


class FusedMLP(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, bias=False)
        self.bias1 = nn.Parameter(torch.zeros(hidden))
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(FusedBiasGelu.apply(self.fc1(x), self.bias1, "tanh"))


class Regressor(nn.Module):
    def __init__(self, dim=8, hidden=32):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, dim), FusedMLP(dim, hidden))
        self.head = nn.Linear(dim, 1)

    def forward(self, x):
        return self.head(self.encoder(x)).squeeze(-1)


class TwoRateModule(pl.LightningModule):
    def __init__(self, accumulate=2):
        super().__init__()
        self.automatic_optimization = False
        self.model = Regressor()
        self.accumulate = accumulate

    def training_step(self, batch, batch_idx):
        enc_opt, head_opt = self.optimizers()
        x, y = batch
        loss = F.mse_loss(self.model(x), y) / self.accumulate
        self.manual_backward(loss)
        if (batch_idx + 1) % self.accumulate == 0:
            torch.nn.utils.clip_grad_norm_(self.model.encoder.parameters(), max_norm=1.0)
            for opt in (enc_opt, head_opt):
                opt.step()
                opt.zero_grad()
        self.log("train/mse", loss * self.accumulate)

    def configure_optimizers(self):
        enc_opt = torch.optim.SGD(self.model.encoder.parameters(), lr=1e-2, momentum=0.9)
        head_opt = torch.optim.Adam(self.model.head.parameters(), lr=1e-2)
        return [enc_opt, head_opt]


def make_loader(n=48):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=g)
    y = torch.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2]
    return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = TwoRateModule()
    bias_before = module.model.encoder[1].bias1.detach().clone()
    trainer = pl.Trainer(max_epochs=1, logger=False)
    trainer.fit(module, make_loader())
    return {"model": module.model}, {"bias_changed": not torch.equal(bias_before, module.model.encoder[1].bias1)}

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
