import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class InstanceEncoder(nn.Module):
    def __init__(self, in_dim=16, dim=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU())

    def forward(self, bags):  # (B, N, in_dim)
        return self.net(bags)


class AttentionMIL(nn.Module):
    """Ilse et al. attention pooling over the instances of each bag."""

    def __init__(self, dim=32):
        super().__init__()
        self.encoder = InstanceEncoder(dim=dim)
        self.attn_V = nn.Linear(dim, 16)
        self.attn_w = nn.Linear(16, 1)
        self.classifier = nn.Linear(dim, 1)

    def forward(self, bags):
        h = self.encoder(bags)
        a = torch.exp(self.attn_w(torch.tanh(self.attn_V(h))))
        a /= a.sum(dim=1, keepdim=True)
        bag_repr = (a * h).sum(dim=1)
        return self.classifier(bag_repr).squeeze(-1), a


def main():
    torch.manual_seed(0)
    bags = torch.randn(40, 10, 16)
    labels = (bags[:, :, 0].max(dim=1).values > 1.5).float()
    loader = DataLoader(TensorDataset(bags, labels), batch_size=8, shuffle=True)
    model = AttentionMIL()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(2):
        for x, y in loader:
            logits, attention = model(x)
            loss = F.binary_cross_entropy_with_logits(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
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
