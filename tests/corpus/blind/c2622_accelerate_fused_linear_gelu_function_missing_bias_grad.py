import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class FusedLinearGELU(torch.autograd.Function):
    """y = gelu(x @ W^T + b), recomputing the GELU derivative in backward instead of storing the activation."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        pre = x @ weight.t() + bias
        ctx.save_for_backward(x, weight, pre)
        return F.gelu(pre)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, pre = ctx.saved_tensors
        cdf = 0.5 * (1.0 + torch.erf(pre / math.sqrt(2.0)))
        pdf = torch.exp(-0.5 * pre * pre) / math.sqrt(2.0 * math.pi)
        grad_pre = grad_out * (cdf + pre * pdf)
        grad_x = grad_pre @ weight
        grad_w = grad_pre.reshape(-1, grad_pre.shape[-1]).t() @ x.reshape(-1, x.shape[-1])
        return grad_x, grad_w


class FusedFeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(FusedLinearGELU.apply(x, self.fc1.weight, self.fc1.bias))


class ConformerLiteEncoder(nn.Module):
    def __init__(self, n_mels=8, dim=16, vocab=12):
        super().__init__()
        self.subsample = nn.Conv1d(n_mels, dim, 3, stride=2, padding=1)
        self.ffn = FusedFeedForward(dim, 32)
        self.conv = nn.Conv1d(dim, dim, 5, padding=2, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.ctc_head = nn.Linear(dim, vocab)

    def forward(self, mels):
        h = self.subsample(mels).transpose(1, 2)
        h = h + 0.5 * self.ffn(h)
        h = h + self.conv(h.transpose(1, 2)).transpose(1, 2)
        return self.ctc_head(self.norm(h)).log_softmax(-1)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = ConformerLiteEncoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=5)
    g = torch.Generator().manual_seed(0)
    mels = torch.randn(8, 8, 16, generator=g)
    targets = torch.randint(1, 12, (8, 4), generator=g)
    loader = DataLoader(TensorDataset(mels, targets), batch_size=4)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    for x, y in loader:
        optimizer.zero_grad()
        log_probs = model(x).transpose(0, 1)
        loss = F.ctc_loss(log_probs, y, torch.full((x.shape[0],), log_probs.shape[0]), torch.full((x.shape[0],), 4))
        accelerator.backward(loss)
        optimizer.step()
        scheduler.step()
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
