import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class LeakyRecurrentCell(nn.Module):
    """Leaky-integrator recurrent unit (spiking-style membrane with a smooth surrogate)."""

    def __init__(self, n_in=3, n_hidden=16, beta=0.9):
        super().__init__()
        self.fc_in = nn.Linear(n_in, n_hidden)
        self.fc_rec = nn.Linear(n_hidden, n_hidden, bias=False)
        self.readout = nn.Linear(n_hidden, 1)
        self.beta = beta

    def init_state(self, batch_size):
        return torch.zeros(batch_size, self.fc_rec.in_features)

    def forward(self, chunk, mem):
        outs = []
        for t in range(chunk.shape[1]):
            mem = self.beta * mem + self.fc_in(chunk[:, t]) + self.fc_rec(torch.sigmoid(mem))
            outs.append(self.readout(torch.sigmoid(mem)))
        return torch.cat(outs, dim=1), mem


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    cell = LeakyRecurrentCell()
    optimizer = torch.optim.Adam(cell.parameters(), lr=1e-2)
    model, optimizer = fabric.setup(cell, optimizer)
    series = torch.randn(4, 24, 3).cumsum(dim=1) * 0.1
    target = series[:, :, :1].roll(-1, dims=1)
    K = 6
    mem = cell.init_state(series.shape[0])
    for start in range(0, series.shape[1], K):
        chunk, y = series[:, start:start + K], target[:, start:start + K, 0]
        pred, mem = model(chunk, mem)
        loss = F.mse_loss(pred, y)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"cell": cell}

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
