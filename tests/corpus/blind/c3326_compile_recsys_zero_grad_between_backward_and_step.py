import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FactorizationMachine(nn.Module):
    def __init__(self, field_dims=(20, 15, 6), k=8):
        super().__init__()
        self.offsets = torch.tensor([0, *torch.tensor(field_dims).cumsum(0)[:-1].tolist()])
        n = sum(field_dims)
        self.linear = nn.Embedding(n, 1)
        self.factors = nn.Embedding(n, k)
        self.bias = nn.Parameter(torch.zeros(1))
        self.deep = nn.Sequential(nn.Linear(len(field_dims) * k, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, fields):
        idx = fields + self.offsets
        v = self.factors(idx)
        pair = 0.5 * (v.sum(1).pow(2) - v.pow(2).sum(1)).sum(-1)
        return self.bias + self.linear(idx).sum((1, 2)) + pair + self.deep(v.flatten(1)).squeeze(-1)


def click_log(n=128):
    g = torch.Generator().manual_seed(0)
    fields = torch.stack([torch.randint(0, d, (n,), generator=g) for d in (20, 15, 6)], 1)
    clicks = ((fields[:, 0] % 3 == 0) | (fields[:, 2] == 1)).float()
    return TensorDataset(fields, clicks)


def build_optimizer(net, emb_lr=0.05, dense_lr=0.01):
    embeddings = list(net.linear.parameters()) + list(net.factors.parameters()) + [net.bias]
    return torch.optim.Adagrad([{"params": embeddings, "lr": emb_lr},
                                {"params": net.deep.parameters(), "lr": dense_lr}])


@torch.no_grad()
def evaluate(model, loader):
    total, n = 0.0, 0
    for fields, clicks in loader:
        total += F.binary_cross_entropy_with_logits(model(fields), clicks, reduction="sum").item()
        n += clicks.numel()
    return total / n


def train_step(model, optimizer, fields, clicks):
    logits = model(fields)
    loss = F.binary_cross_entropy_with_logits(logits, clicks)
    loss.backward()
    optimizer.zero_grad()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()
    return loss.detach()


def main():
    torch.manual_seed(0)
    net = FactorizationMachine()
    model = torch.compile(net, backend="eager")
    optimizer = build_optimizer(net)
    loader = DataLoader(click_log(), batch_size=32, shuffle=True)
    f0 = net.factors.weight.detach().clone()
    history = []
    for epoch in range(2):
        net.train()
        for fields, clicks in loader:
            train_step(model, optimizer, fields, clicks)
        net.eval()
        history.append(evaluate(model, loader))
    return {"model": net}, {"factors_changed": not torch.equal(f0, net.factors.weight)}

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
