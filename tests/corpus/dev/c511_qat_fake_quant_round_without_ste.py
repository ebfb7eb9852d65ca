import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FakeQuantLinear(nn.Linear):
    """Linear layer that simulates symmetric per-tensor int-N weights during training (QAT)."""

    def __init__(self, in_features, out_features, bits=4, bias=True):
        super().__init__(in_features, out_features, bias=bias)
        self.qmax = 2 ** (bits - 1) - 1

    def quantized_weight(self):
        scale = self.weight.abs().max().detach().clamp(min=1e-8) / self.qmax
        q = torch.round(self.weight / scale).clamp(-self.qmax - 1, self.qmax)
        return q * scale

    def forward(self, x):
        return F.linear(x, self.quantized_weight(), self.bias)


class KeywordSpotter(nn.Module):
    def __init__(self, n_mfcc=10, frames=16, n_keywords=4):
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(n_mfcc, 16, 3, padding=1), nn.BatchNorm1d(16), nn.ReLU())
        self.classifier = nn.Sequential(nn.Linear(16 * frames, 32), nn.ReLU(), nn.Linear(32, n_keywords))

    def forward(self, mfcc):
        return self.classifier(self.features(mfcc).flatten(1))


def convert_to_qat(model, bits=4):
    """Swap the classifier's Linear layers for fake-quantized copies (weights carried over)."""
    for name, layer in list(model.classifier.named_children()):
        if isinstance(layer, nn.Linear):
            q = FakeQuantLinear(layer.in_features, layer.out_features, bits=bits)
            q.load_state_dict(layer.state_dict())
            setattr(model.classifier, name, q)
    return model


def finetune(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for mfcc, label in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(mfcc), label)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    mfcc = torch.randn(64, 10, 16, generator=g)
    label = torch.randint(0, 4, (64,), generator=g)
    loader = DataLoader(TensorDataset(mfcc, label), batch_size=16, shuffle=True, generator=g)
    model = convert_to_qat(KeywordSpotter())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    before = model.classifier[0].weight.detach().clone()
    finetune(model, loader, optimizer)
    return {"model": model}, {"quantized_weights_changed": not torch.equal(before, model.classifier[0].weight)}

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
