import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def fake_quant_ste(w, bits=4):
    """Symmetric per-tensor fake quantization with a straight-through estimator."""
    qmax = 2 ** (bits - 1) - 1
    scale = w.abs().max().detach().clamp(min=1e-8) / qmax
    w_q = torch.round(w / scale).clamp(-qmax - 1, qmax) * scale
    return w + (w_q - w).detach()


class QATConv1d(nn.Conv1d):
    def forward(self, x):
        return self._conv_forward(x, fake_quant_ste(self.weight), self.bias)


class QATLinear(nn.Linear):
    def forward(self, x):
        return F.linear(x, fake_quant_ste(self.weight), self.bias)


class ECGClassifier(nn.Module):
    def __init__(self, n_leads=2, n_classes=3):
        super().__init__()
        self.conv = QATConv1d(n_leads, 8, 5, padding=2)
        self.bn = nn.BatchNorm1d(8)
        self.fc = QATLinear(8, n_classes)

    def forward(self, x):
        return self.fc(F.relu(self.bn(self.conv(x))).mean(-1))


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()


@torch.no_grad()
def export_int_weights(model, bits=4):
    qmax = 2 ** (bits - 1) - 1
    out = {}
    for name, m in model.named_modules():
        if isinstance(m, (QATConv1d, QATLinear)):
            scale = m.weight.abs().max() / qmax
            out[name] = (torch.round(m.weight / scale).clamp(-qmax - 1, qmax).to(torch.int8), scale.item())
    return out


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(48, 2, 32, generator=g)
    y = torch.randint(0, 3, (48,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model = ECGClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = model.conv.weight.detach().clone()
    train(model, loader, optimizer)
    exported = export_int_weights(model)
    return {"model": model}, {"conv_weight_changed": not torch.equal(before, model.conv.weight),
                              "exported_layers": sorted(exported)}

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
