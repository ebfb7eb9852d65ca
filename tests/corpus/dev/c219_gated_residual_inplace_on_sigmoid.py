import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GatedResidualNetwork(nn.Module):
    """GRN from Temporal Fusion Transformers: ELU MLP, sigmoid gate, residual, layer norm."""

    def __init__(self, d_in, d_hidden, d_out, dropout=0.1):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_out)
        self.gate = nn.Linear(d_hidden, d_out)
        self.value = nn.Linear(d_hidden, d_out)
        self.skip = nn.Linear(d_in, d_out) if d_in != d_out else nn.Identity()
        self.drop = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d_out)

    def glu(self, h):
        out = torch.sigmoid(self.gate(h))
        out *= self.value(h)
        return out

    def forward(self, x):
        residual = self.skip(x)
        h = F.elu(self.fc1(x))
        h = self.drop(self.fc2(h))
        return self.norm(self.glu(h) + residual)


class QuantileForecaster(nn.Module):
    def __init__(self, n_features=5, d_model=16, quantiles=(0.1, 0.5, 0.9)):
        super().__init__()
        self.quantiles = quantiles
        self.grn1 = GatedResidualNetwork(n_features, d_model, d_model)
        self.grn2 = GatedResidualNetwork(d_model, d_model, d_model)
        self.out = nn.Linear(d_model, len(quantiles))

    def forward(self, x):
        return self.out(self.grn2(self.grn1(x)))


def quantile_loss(pred, target, quantiles):
    losses = []
    for i, q in enumerate(quantiles):
        err = target - pred[:, i]
        losses.append(torch.max(q * err, (q - 1) * err).mean())
    return torch.stack(losses).sum()


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = quantile_loss(model(x), y, model.quantiles)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(48, 5)
    y = x @ torch.randn(5) + 0.1 * torch.randn(48)
    model = QuantileForecaster()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True), optimizer)
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
