import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def fake_quant_ste(x, scale, bits=4):
    qmax = 2 ** (bits - 1) - 1
    q = torch.clamp(torch.round(x / scale), -qmax, qmax) * scale
    return x + (q - x).detach()


class QATConvNet(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.conv1 = nn.Conv1d(2, 8, 3, padding=1)
        self.conv2 = nn.Conv1d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, n_classes)
        self.register_buffer("act_scale", torch.tensor(0.1))

    def qweight(self, layer):
        scale = layer.weight.detach().abs().max() / 7
        return fake_quant_ste(layer.weight, scale)

    def forward(self, x):
        h = F.relu(F.conv1d(x, self.qweight(self.conv1), self.conv1.bias, padding=1))
        h = fake_quant_ste(h, self.act_scale)
        h = F.relu(F.conv1d(h, self.qweight(self.conv2), self.conv2.bias, padding=1))
        return self.fc(h.mean(-1))

    @torch.no_grad()
    def calibrate(self, x):
        h = F.relu(self.conv1(x))
        self.act_scale.copy_(h.abs().max() / 7)


def main():
    torch.manual_seed(0)
    x = torch.randn(48, 2, 16)
    y = (x[:, 0].mean(-1) > 0).long() + (x[:, 1].mean(-1) > 0.2).long()
    model = QATConvNet()
    model.calibrate(x[:16])
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    w0 = model.conv1.weight.detach().clone()
    for epoch in range(2):
        for xb, yb in DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True):
            loss = F.cross_entropy(compiled(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {"model": model}, {"conv1_changed": not torch.equal(w0, model.conv1.weight)}

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
