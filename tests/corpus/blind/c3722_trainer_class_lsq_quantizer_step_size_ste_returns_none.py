import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RoundPass(torch.autograd.Function):
    """Fake-quantize x with a learned step size (LSQ); rounding uses the straight-through estimator."""

    @staticmethod
    def forward(ctx, x, step, qmin, qmax):
        q = torch.clamp(torch.round(x / step), qmin, qmax)
        ctx.save_for_backward(x, step, q)
        return q * step

    @staticmethod
    def backward(ctx, grad_output):
        x, step, q = ctx.saved_tensors
        return grad_output, None, None, None


class LSQLinear(nn.Linear):
    def __init__(self, in_features, out_features, bits=3):
        super().__init__(in_features, out_features)
        self.qmin, self.qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        self.w_step = nn.Parameter(self.weight.detach().abs().mean() * 2 / (self.qmax ** 0.5))

    def forward(self, x):
        w_q = RoundPass.apply(self.weight, self.w_step, self.qmin, self.qmax)
        return F.linear(x, w_q, self.bias)


class QATTrainer:
    def __init__(self, model, lr=1e-2):
        self.model = model
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)

    def train_epoch(self, loader):
        self.model.train()
        for x, y in loader:
            loss = F.cross_entropy(self.model(x), y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(LSQLinear(10, 16), nn.ReLU(), LSQLinear(16, 3))
    x = torch.randn(64, 10)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    trainer = QATTrainer(model)
    step0 = model[0].w_step.detach().clone()
    w0 = model[0].weight.detach().clone()
    for _ in range(2):
        trainer.train_epoch(DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True))
    return {"model": model}, {
        "step_size_changed": not torch.equal(step0, model[0].w_step),
        "weights_changed": not torch.equal(w0, model[0].weight),
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
