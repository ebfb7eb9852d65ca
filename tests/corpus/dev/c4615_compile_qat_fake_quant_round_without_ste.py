import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

QCFG = {"bits": 4, "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0, "epochs": 2, "n_mels": 16, "frames": 20,
        "classes": 5}


def fake_quant(w, scale, bits):
    qmax = 2 ** (bits - 1) - 1
    qmin = -qmax - 1
    return torch.round(w / scale).clamp(qmin, qmax) * scale


class QuantConv2d(nn.Conv2d):
    def __init__(self, *args, bits=8, **kwargs):
        super().__init__(*args, **kwargs)
        self.bits = bits
        self.register_buffer("w_scale", torch.ones(self.out_channels, 1, 1, 1))

    @torch.no_grad()
    def calibrate(self):
        qmax = 2 ** (self.bits - 1) - 1
        self.w_scale.copy_(self.weight.abs().amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-8) / qmax)

    def forward(self, x):
        return F.conv2d(x, fake_quant(self.weight, self.w_scale, self.bits), self.bias, self.stride, self.padding)


class QuantLinear(nn.Linear):
    def __init__(self, *args, bits=8, **kwargs):
        super().__init__(*args, **kwargs)
        self.bits = bits
        self.register_buffer("w_scale", torch.ones(self.out_features, 1))

    @torch.no_grad()
    def calibrate(self):
        qmax = 2 ** (self.bits - 1) - 1
        self.w_scale.copy_(self.weight.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / qmax)

    def forward(self, x):
        return F.linear(x, fake_quant(self.weight, self.w_scale, self.bits), self.bias)


class KeywordSpotter(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        b = cfg["bits"]
        self.conv1 = QuantConv2d(1, 8, 3, padding=1, bits=b)
        self.conv2 = QuantConv2d(8, 16, 3, padding=1, bits=b)
        self.fc = QuantLinear(16, cfg["classes"], bits=b)

    def forward(self, mel):
        x = F.relu(self.conv1(mel))
        x = F.max_pool2d(x, 2)
        x = F.relu(self.conv2(x))
        return self.fc(x.mean(dim=(2, 3)))

    def calibrate(self):
        for m in self.modules():
            if hasattr(m, "calibrate") and m is not self:
                m.calibrate()


def speech_commands_like(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, cfg["classes"], (n,), generator=g)
    mel = torch.randn(n, 1, cfg["n_mels"], cfg["frames"], generator=g) + y.view(-1, 1, 1, 1) * 0.3
    return DataLoader(TensorDataset(mel, y), batch_size=8, shuffle=True, generator=g)


def train_one_epoch(model, loader, optimizer):
    model.train()
    correct = 0
    for mel, y in loader:
        logits = model(mel)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        correct += (logits.argmax(-1) == y).sum().item()
    return correct / len(loader.dataset)


def main():
    torch.manual_seed(0)
    model = KeywordSpotter(QCFG)
    model.calibrate()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.SGD(model.parameters(), lr=QCFG["lr"], momentum=QCFG["momentum"],
                                weight_decay=QCFG["weight_decay"])
    w0 = model.conv1.weight.detach().clone()
    b0 = model.conv1.bias.detach().clone()
    loader = speech_commands_like(QCFG)
    for epoch in range(QCFG["epochs"]):
        train_one_epoch(compiled, loader, optimizer)
    return {"model": model}, {
        "weights_changed": not torch.equal(w0, model.conv1.weight),
        "bias_changed": not torch.equal(b0, model.conv1.bias),
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
