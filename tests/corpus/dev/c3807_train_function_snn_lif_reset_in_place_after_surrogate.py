import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ATanSpike(torch.autograd.Function):
    """Heaviside spike in the forward pass, arctan surrogate derivative in the backward pass."""

    @staticmethod
    def forward(ctx, mem, threshold):
        ctx.save_for_backward(mem)
        ctx.threshold = threshold
        return (mem > threshold).float()

    @staticmethod
    def backward(ctx, grad_output):
        (mem,) = ctx.saved_tensors
        alpha = 2.0
        surrogate = alpha / 2 / (1 + (math.pi / 2 * alpha * (mem - ctx.threshold)) ** 2)
        return grad_output * surrogate, None


class LIF(nn.Module):
    def __init__(self, beta=0.9, threshold=1.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, cur, mem):
        mem = self.beta * mem + cur
        spk = ATanSpike.apply(mem, self.threshold)
        mem[spk.bool()] = 0.0
        return spk, mem


class SpikingMLP(nn.Module):
    def __init__(self, n_in=20, n_hidden=32, n_out=3):
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.lif1 = LIF()
        self.fc2 = nn.Linear(n_hidden, n_out)
        self.lif2 = LIF()

    def forward(self, spikes_in):
        mem1 = torch.zeros(spikes_in.shape[1], self.fc1.out_features)
        mem2 = torch.zeros(spikes_in.shape[1], self.fc2.out_features)
        out = []
        for x_t in spikes_in:
            spk1, mem1 = self.lif1(self.fc1(x_t), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            out.append(spk2)
        return torch.stack(out)


def rate_encode(x, num_steps, generator):
    return (torch.rand((num_steps,) + x.shape, generator=generator) < x).float()


def train(net, loader, optimizer, num_steps=10, epochs=2):
    g = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        for x, y in loader:
            spk_rec = net(rate_encode(x, num_steps, g))
            loss = F.cross_entropy(spk_rec.sum(0), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    y = torch.arange(48) % 3
    x = torch.rand(48, 20) * 0.3
    for c in range(3):
        x[y == c, 6 * c:6 * c + 6] += 0.6
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    net = SpikingMLP()
    optimizer = torch.optim.Adam(net.parameters(), lr=5e-3)
    w0 = net.fc1.weight.detach().clone()
    train(net, loader, optimizer)
    return {"net": net}, {"fc1_changed": not torch.equal(w0, net.fc1.weight)}

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
