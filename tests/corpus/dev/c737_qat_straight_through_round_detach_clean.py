import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def ste_round(x):
    """Round in the forward pass, identity in the backward pass."""
    return x + (torch.round(x) - x).detach()


def fake_quant(x, n_bits=4):
    qmax = 2 ** (n_bits - 1) - 1
    scale = x.detach().abs().max().clamp(min=1e-8) / qmax
    return ste_round(x / scale).clamp(-qmax, qmax) * scale


class QATLinear(nn.Linear):
    def __init__(self, in_features, out_features, n_bits=4):
        super().__init__(in_features, out_features)
        self.n_bits = n_bits

    def forward(self, x):
        return F.linear(x, fake_quant(self.weight, self.n_bits), self.bias)


class QATNet(nn.Module):
    def __init__(self, in_dim=16, hidden=32, out_dim=4, n_bits=4):
        super().__init__()
        self.fc1 = QATLinear(in_dim, hidden, n_bits)
        self.fc2 = QATLinear(hidden, out_dim, n_bits)
        self.n_bits = n_bits

    def forward(self, x):
        h = F.relu(self.fc1(x))
        h = fake_quant(h, self.n_bits + 4)
        return self.fc2(h)


def train(model, loader, optimizer, epochs=3):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(128, 16)
    y = x[:, :4].argmax(1)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    model = QATNet()
    before = model.fc1.weight.detach().clone()
    train(model, loader, torch.optim.Adam(model.parameters(), lr=5e-3))
    return {"model": model}, {"fc1_weight_changed": not torch.equal(before, model.fc1.weight)}

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
