import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 20, "hidden": 32, "classes": 4, "w_bits": 4, "lr": 0.05, "epochs": 2}


def fake_quant(w, bits):
    """Symmetric per-tensor fake quantization (quantize -> dequantize)."""
    qmax = 2 ** (bits - 1) - 1
    scale = w.detach().abs().max().clamp(min=1e-8) / qmax
    return torch.round(w / scale).clamp(-qmax, qmax) * scale


class QATLinear(nn.Linear):
    def __init__(self, in_f, out_f, bits):
        super().__init__(in_f, out_f)
        self.bits = bits

    def forward(self, x):
        return F.linear(x, fake_quant(self.weight, self.bits), self.bias)


class QATMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc1 = QATLinear(cfg["in_dim"], cfg["hidden"], cfg["w_bits"])
        self.fc2 = QATLinear(cfg["hidden"], cfg["classes"], cfg["w_bits"])

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def train_qat(compiled, loader, optimizer, scheduler, epochs):
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(compiled(x), y)
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, CFG["in_dim"], generator=g)
    y = (x[:, :4].argmax(dim=1))
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model = QATMLP(CFG)
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.SGD(model.parameters(), lr=CFG["lr"], momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    w0, b0 = model.fc1.weight.detach().clone(), model.fc1.bias.detach().clone()
    train_qat(compiled, loader, optimizer, scheduler, CFG["epochs"])
    return {"model": model}, {
        "fc1_weight_changed": not torch.equal(w0, model.fc1.weight),
        "fc1_bias_changed": not torch.equal(b0, model.fc1.bias),
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
