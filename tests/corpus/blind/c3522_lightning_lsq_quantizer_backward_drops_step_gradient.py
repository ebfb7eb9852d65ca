import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class LSQQuantize(torch.autograd.Function):
    """Learned step size quantization (Esser et al.): v_hat = round(clamp(v / s, Qn, Qp)) * s."""

    @staticmethod
    def forward(ctx, v, step, grad_scale, qn, qp):
        ctx.save_for_backward(v, step)
        ctx.other = (grad_scale, qn, qp)
        return torch.round(torch.clamp(v / step, qn, qp)) * step

    @staticmethod
    def backward(ctx, grad_out):
        v, step = ctx.saved_tensors
        grad_scale, qn, qp = ctx.other
        q = v / step
        inside = ((q >= qn) & (q <= qp)).to(grad_out.dtype)
        grad_v = grad_out * inside
        return grad_v, None, None, None, None


class QuantLinear(nn.Linear):
    def __init__(self, d_in, d_out, bits=4):
        super().__init__(d_in, d_out)
        self.qn, self.qp = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        self.step = nn.Parameter(2 * self.weight.detach().abs().mean() / self.qp ** 0.5)

    def forward(self, x):
        g = 1.0 / (self.weight.numel() * self.qp) ** 0.5
        w_q = LSQQuantize.apply(self.weight, self.step, g, self.qn, self.qp)
        return F.linear(x, w_q, self.bias)


class QATClassifier(pl.LightningModule):
    def __init__(self, lr=5e-3):
        super().__init__()
        self.fc1 = QuantLinear(16, 32)
        self.fc2 = QuantLinear(32, 4)
        self.lr = lr

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        steps = [p for n, p in self.named_parameters() if n.endswith("step")]
        weights = [p for n, p in self.named_parameters() if not n.endswith("step")]
        return torch.optim.SGD([{"params": weights}, {"params": steps, "lr": self.lr * 0.1}], lr=self.lr, momentum=0.9)


def make_loader(n=48, bs=12):
    g = torch.Generator().manual_seed(31)
    x = torch.randn(n, 16, generator=g)
    return DataLoader(TensorDataset(x, x[:, :4].argmax(1)), batch_size=bs, shuffle=True)


def main():
    pl.seed_everything(0)
    model = QATClassifier()
    s0 = float(model.fc1.step)
    pl.Trainer(max_epochs=2, logger=False).fit(model, make_loader())
    return {"fc1": model.fc1, "fc2": model.fc2}, {"step_size_changed": float(model.fc1.step) != s0}

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
