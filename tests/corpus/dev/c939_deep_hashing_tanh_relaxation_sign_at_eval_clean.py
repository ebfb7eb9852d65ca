import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class HashingNet(nn.Module):
    def __init__(self, in_dim=32, n_bits=16, beta=2.0):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.hash_layer = nn.Linear(64, n_bits)
        self.n_bits, self.beta = n_bits, beta

    def relaxed_codes(self, x):
        return torch.tanh(self.beta * self.hash_layer(self.encoder(x)))


def hashing_loss(u, y, n_bits, quant_weight=0.1):
    target = (y[:, None] == y[None, :]).float() * 2 - 1
    similarity = F.mse_loss(u @ u.t() / n_bits, target)
    quantization = (u.abs() - 1).pow(2).mean()
    return similarity + quant_weight * quantization


@torch.no_grad()
def mean_precision_at_k(model, x, y, k=5):
    model.eval()
    codes = torch.sign(model.relaxed_codes(x))
    db_codes = codes
    dist = 0.5 * (model.n_bits - codes @ db_codes.t())
    dist.fill_diagonal_(float("inf"))
    nn_idx = dist.topk(k, largest=False).indices.numpy()
    labels = y.numpy()
    precisions = [(labels[nn_idx[i]] == labels[i]).mean() for i in range(len(labels))]
    return float(np.mean(precisions))


def make_data(n=96, in_dim=32, n_classes=4):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, n_classes, (n,), generator=g)
    x = torch.randn(n_classes, in_dim, generator=g)[y] + 0.5 * torch.randn(n, in_dim, generator=g)
    return x, y


def train(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            loss = hashing_loss(model.relaxed_codes(x), y, model.n_bits)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x, y = make_data()
    loader = DataLoader(TensorDataset(x, y), batch_size=24, shuffle=True, generator=torch.Generator().manual_seed(1))
    model = HashingNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, loader, optimizer)
    return {"model": model}, {"precision_at_5": round(mean_precision_at_k(model, x, y), 3)}

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
