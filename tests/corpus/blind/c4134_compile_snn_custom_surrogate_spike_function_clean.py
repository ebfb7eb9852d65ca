import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RectSurrogateSpike(torch.autograd.Function):
    """Heaviside forward, rectangular surrogate derivative backward."""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        mask = (x.abs() <= ctx.alpha).to(x.dtype) / (2 * ctx.alpha)
        return grad_output * mask, None


class IFNeuron(nn.Module):
    def __init__(self, v_threshold=1.0, alpha=0.5):
        super().__init__()
        self.v_threshold = v_threshold
        self.alpha = alpha

    def forward(self, currents):  # (T, B, F)
        v = torch.zeros_like(currents[0])
        out = []
        for x_t in currents:
            v = v + x_t
            s = RectSurrogateSpike.apply(v - self.v_threshold, self.alpha)
            v = v - s * self.v_threshold  # soft reset
            out.append(s)
        return torch.stack(out)


class SpikingMLP(nn.Module):
    def __init__(self, n_in=20, hidden=32, n_out=3, steps=4):
        super().__init__()
        self.steps = steps
        self.fc1 = nn.Linear(n_in, hidden)
        self.if1 = IFNeuron()
        self.fc2 = nn.Linear(hidden, n_out)

    def forward(self, x):
        cur = self.fc1(x).unsqueeze(0).repeat(self.steps, 1, 1)
        return self.fc2(self.if1(cur).mean(0))


def train_one_epoch(model, compiled, loader, optimizer):
    model.train()
    for x, y in loader:
        loss = F.cross_entropy(compiled(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(48, 20, generator=g) * 2
    y = (x[:, :3].argmax(1))
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model = SpikingMLP()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    w0 = model.fc1.weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, compiled, loader, optimizer)
    return {"model": model}, {"fc1_changed": not torch.equal(w0, model.fc1.weight)}

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
