import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class LinearWithGradSkip(torch.autograd.Function):
    """Linear layer that skips the weight-gradient GEMM when the weight is frozen (prompt-tuning speed-up)."""

    @staticmethod
    def forward(ctx, input, weight, bias):
        ctx.compute_weight_gradient = ctx.needs_input_grad[0]
        ctx.save_for_backward(input, weight)
        return input @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_input = grad_output @ weight
        grad_weight = grad_output.t() @ input if ctx.compute_weight_gradient else None
        grad_bias = grad_output.sum(dim=0)
        return grad_input, grad_weight, grad_bias


class FastLinear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def forward(self, x):
        return LinearWithGradSkip.apply(x, self.weight, self.bias)


class ChurnModel(nn.Module):
    def __init__(self, n_in=20, hidden=32):
        super().__init__()
        self.input_proj = FastLinear(n_in, hidden)
        self.hidden = FastLinear(hidden, hidden)
        self.head = FastLinear(hidden, 1)

    def forward(self, x):
        h = F.gelu(self.input_proj(x))
        h = F.gelu(self.hidden(h))
        return self.head(h).squeeze(-1)


def make_loader(n=128):
    g = torch.Generator().manual_seed(17)
    x = torch.randn(n, 20, generator=g)
    y = (x[:, 0] - x[:, 5] + 0.3 * torch.randn(n, generator=g) > 0).float()
    return DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = ChurnModel()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=0.3, total_iters=8)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, make_loader(), scheduler)
    w0 = model.input_proj.weight.detach().clone()
    for epoch in range(2):
        for x, y in loader:
            with accelerator.accumulate(model):
                loss = F.binary_cross_entropy_with_logits(model(x), y)
                accelerator.backward(loss)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
    x, y = next(iter(loader))
    F.binary_cross_entropy_with_logits(model(x), y).backward()
    return {"model": model}, {"input_proj_changed": not torch.equal(w0, model.input_proj.weight)}

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
