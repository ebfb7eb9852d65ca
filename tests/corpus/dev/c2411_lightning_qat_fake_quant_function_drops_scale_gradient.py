import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FakeQuantize(torch.autograd.Function):
    """Symmetric fake quantization with a straight-through estimator for the rounding."""

    @staticmethod
    def forward(ctx, x, scale, qmin, qmax):
        q = torch.clamp(torch.round(x / scale), qmin, qmax)
        ctx.save_for_backward(x, scale)
        ctx.qmin, ctx.qmax = qmin, qmax
        return q * scale

    @staticmethod
    def backward(ctx, grad_output):
        x, scale = ctx.saved_tensors
        inside = ((x / scale) >= ctx.qmin) & ((x / scale) <= ctx.qmax)
        grad_x = grad_output * inside.to(grad_output.dtype)
        return grad_x, None, None, None


class QuantLinear(nn.Linear):
    """Linear layer whose weight and input are fake-quantized with learnable (range-learning) scales."""

    def __init__(self, in_f, out_f, bits=4):
        super().__init__(in_f, out_f)
        self.qmax = 2 ** (bits - 1) - 1
        self.weight_scale = nn.Parameter(self.weight.detach().abs().max() / self.qmax)
        self.act_scale = nn.Parameter(torch.tensor(0.1))

    def forward(self, x):
        xq = FakeQuantize.apply(x, self.act_scale, -self.qmax - 1, self.qmax)
        wq = FakeQuantize.apply(self.weight, self.weight_scale, -self.qmax - 1, self.qmax)
        return F.linear(xq, wq, self.bias)


def prepare_qat(model, bits=4):
    for name, child in list(model.named_children()):
        if isinstance(child, nn.Linear):
            q = QuantLinear(child.in_features, child.out_features, bits)
            q.load_state_dict(child.state_dict(), strict=False)
            setattr(model, name, q)
        else:
            prepare_qat(child, bits)
    return model


class KeywordMLP(nn.Module):
    def __init__(self, n_mfcc=20, frames=8, n_words=5):
        super().__init__()
        self.frontend = nn.Sequential(nn.Flatten(), nn.LayerNorm(n_mfcc * frames))
        self.fc1 = nn.Linear(n_mfcc * frames, 32)
        self.fc2 = nn.Linear(32, n_words)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(self.frontend(x))))


class QATModule(pl.LightningModule):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.model(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05, momentum=0.9)


def main():
    pl.seed_everything(0)
    float_model = KeywordMLP()
    qat = QATModule(prepare_qat(float_model))
    s0 = qat.model.fc1.act_scale.detach().clone()
    data = TensorDataset(torch.randn(48, 20, 8), torch.randint(0, 5, (48,)))
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(qat, DataLoader(data, batch_size=16))
    return ({"qat": qat}, {"act_scale_changed": not torch.equal(s0, qat.model.fc1.act_scale.detach())})

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
