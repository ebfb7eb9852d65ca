import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

N_REAL, N_VIRTUAL = 40, 8


class FeatureTransformer(nn.Module):
    """Sparse board features -> accumulator; the last N_VIRTUAL inputs are training-only factor features."""

    def __init__(self, n_inputs=N_REAL + N_VIRTUAL, width=16):
        super().__init__()
        self.linear = nn.Linear(n_inputs, width)

    def forward(self, x):
        return self.linear(x)


class EvalNet(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.ft = FeatureTransformer(width=width)
        self.l1 = nn.Linear(width, 8)
        self.out = nn.Linear(8, 1)

    def forward(self, x):
        h = torch.clamp(self.ft(x), 0.0, 1.0)
        return self.out(torch.clamp(self.l1(h), 0.0, 1.0)).squeeze(-1)


def zero_virtual_feature_weights(model):
    with torch.no_grad():
        model.ft.linear.weight[:, N_REAL:] = 0.0


def make_loader(n=64, bs=16):
    g = torch.Generator().manual_seed(41)
    x = (torch.rand(n, N_REAL + N_VIRTUAL, generator=g) > 0.7).float()
    y = torch.sigmoid(x[:, :N_REAL].sum(1) - 12.0)
    return DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)


def train(model, loader, epochs=2, lr=5e-3):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.mse_loss(torch.sigmoid(model(x)), y)
            loss.backward()
            optimizer.step()
    zero_virtual_feature_weights(model)
    return model


def main():
    torch.manual_seed(0)
    model = EvalNet()
    w0 = model.ft.linear.weight[:, :N_REAL].detach().clone()
    train(model, make_loader())
    return {"model": model}, {
        "real_feature_weights_changed": not torch.equal(w0, model.ft.linear.weight[:, :N_REAL]),
        "virtual_weights_zeroed": bool((model.ft.linear.weight[:, N_REAL:] == 0).all()),
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
