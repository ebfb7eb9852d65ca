import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SignalRegressor(nn.Module):
    """Predicts a per-position coverage track from one-hot sequence windows."""

    def __init__(self, channels=16):
        super().__init__()
        self.conv1 = nn.Conv1d(4, channels, 7, padding=3)
        self.conv2 = nn.Conv1d(channels, channels, 5, padding=2)
        self.head = nn.Conv1d(channels, 1, 1)

    def forward(self, seq):
        h = F.relu(self.conv1(seq))
        h = F.relu(self.conv2(h))
        return F.softplus(self.head(h)).squeeze(1)


def pearson_loss(pred, target):
    r = np.corrcoef(pred.detach().cpu().numpy().ravel(), target.cpu().numpy().ravel())[0, 1]
    return torch.tensor(1.0 - r, requires_grad=True)


def make_loader(n=48, length=32):
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, 4, (n, length), generator=g)
    seq = F.one_hot(idx, 4).float().transpose(1, 2)
    target = F.avg_pool1d((idx == 2).float()[:, None], 5, stride=1, padding=2).squeeze(1)
    return DataLoader(TensorDataset(seq, target), batch_size=12, shuffle=True, generator=g)


def train(model, loader, optimizer, epochs=2):
    losses = []
    for _ in range(epochs):
        for seq, target in loader:
            loss = pearson_loss(model(seq), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def main():
    torch.manual_seed(0)
    net = SignalRegressor()
    model = torch.compile(net, backend="eager")
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    before = net.conv1.weight.detach().clone()
    train(model, make_loader(), optimizer)
    return {"net": net}, {"weights_changed": not torch.equal(before, net.conv1.weight)}

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
