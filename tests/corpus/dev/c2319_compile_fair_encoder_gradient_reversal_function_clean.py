import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Function
from torch.utils.data import DataLoader, TensorDataset


class GradReverse(Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.alpha, None


class FairEncoder(nn.Module):
    """Node/user encoder trained to predict the task while hiding a sensitive attribute (adversarial via GRL)."""

    def __init__(self, d_in=12, d_h=16, n_cls=3, n_attr=2):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d_in, d_h), nn.ReLU(), nn.Linear(d_h, d_h))
        self.task_head = nn.Linear(d_h, n_cls)
        self.attacker = nn.Sequential(nn.Linear(d_h, d_h), nn.ReLU(), nn.Linear(d_h, n_attr))

    def forward(self, x, alpha=1.0):
        h = self.encoder(x)
        return self.task_head(h), self.attacker(GradReverse.apply(h, alpha))


def train(model, loader, optimizer, epochs=2):
    compiled = torch.compile(model, backend="eager")
    for _ in range(epochs):
        for x, y, s in loader:
            task_logits, attr_logits = compiled(x, alpha=0.5)
            loss = F.cross_entropy(task_logits, y) + F.cross_entropy(attr_logits, s)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(16, 12), torch.randint(0, 3, (16,)), torch.randint(0, 2, (16,)))
    model = FairEncoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    e0 = model.encoder[0].weight.detach().clone()
    a0 = model.attacker[0].weight.detach().clone()
    train(model, DataLoader(data, batch_size=8), optimizer)
    return ({"model": model},
            {"encoder_changed": not torch.equal(e0, model.encoder[0].weight),
             "attacker_changed": not torch.equal(a0, model.attacker[0].weight)})

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
