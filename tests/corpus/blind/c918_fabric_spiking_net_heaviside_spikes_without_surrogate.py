import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class LIFLayer(nn.Module):
    def __init__(self, d_in, d_out, beta=0.9, threshold=1.0):
        super().__init__()
        self.fc = nn.Linear(d_in, d_out)
        self.beta, self.threshold = beta, threshold

    def forward(self, x_seq):
        mem = torch.zeros(x_seq.shape[1], self.fc.out_features)
        spikes = []
        for x in x_seq.unbind(0):
            mem = self.beta * mem + self.fc(x)
            spk = (mem > self.threshold).float()
            mem = mem - spk * self.threshold
            spikes.append(spk)
        return torch.stack(spikes)


class SpikingClassifier(nn.Module):
    def __init__(self, d_in=20, hidden=32, n_classes=4):
        super().__init__()
        self.lif1 = LIFLayer(d_in, hidden)
        self.lif2 = LIFLayer(hidden, hidden)
        self.readout = nn.Linear(hidden, n_classes)

    def forward(self, x_seq):
        counts = self.lif2(self.lif1(x_seq)).sum(0)
        return self.readout(counts)


def rate_encode(x, steps=10, generator=None):
    prob = torch.sigmoid(x).expand(steps, *x.shape)
    return (torch.rand(prob.shape, generator=generator) < prob).float()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 4, (64,), generator=g)
    x = torch.randn(64, 20, generator=g) + F.one_hot(y, 20).float() * 3
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g))
    model = SpikingClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model, optimizer = fabric.setup(model, optimizer)
    for _ in range(2):
        for xb, yb in loader:
            loss = F.cross_entropy(model(rate_encode(xb, generator=g)), yb)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"model": model.module}

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
