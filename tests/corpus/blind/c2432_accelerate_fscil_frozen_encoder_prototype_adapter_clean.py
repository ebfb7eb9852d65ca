import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.fc = nn.Linear(16, dim)

    def forward(self, x):
        return self.fc(self.conv(x).mean(dim=(2, 3)))


class PrototypeAdapter(nn.Module):
    """Continually evolved classifier: self-attention over class prototypes adapts them jointly (CEC-style)."""

    def __init__(self, dim=32, n_classes=8, temperature=16.0):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, 4, batch_first=True)
        self.norm = nn.LayerNorm(dim)
        self.register_buffer("prototypes", torch.zeros(n_classes, dim))
        self.temperature = temperature

    @torch.no_grad()
    def set_prototypes(self, feats, labels):
        for c in labels.unique():
            self.prototypes[c] = F.normalize(feats[labels == c].mean(0), dim=-1)

    def forward(self, feats):
        protos = self.prototypes.unsqueeze(0)
        adapted, _ = self.attn(protos, protos, protos)
        adapted = F.normalize(self.norm(protos + adapted).squeeze(0), dim=-1)
        return self.temperature * F.normalize(feats, dim=-1) @ adapted.T


def pseudo_incremental_train(accelerator, encoder, adapter, optimizer, loader, epochs=2):
    encoder.eval()
    for _ in range(epochs):
        for x, y in loader:
            with torch.no_grad():
                feats = encoder(x)
            adapter.set_prototypes(feats.detach(), y)
            loss = F.cross_entropy(adapter(feats), y)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(cpu=True)
    encoder, adapter = Encoder(), PrototypeAdapter()
    encoder.requires_grad_(False)
    optimizer = torch.optim.SGD(adapter.parameters(), lr=0.05, momentum=0.9)
    data = TensorDataset(torch.randn(48, 3, 8, 8), torch.arange(48) % 8)
    loader = DataLoader(data, batch_size=16, shuffle=True)
    adapter, optimizer, loader = accelerator.prepare(adapter, optimizer, loader)
    a0 = adapter.attn.in_proj_weight.detach().clone()
    pseudo_incremental_train(accelerator, encoder, adapter, optimizer, loader)
    return ({"adapter": adapter, "encoder": encoder},
            {"adapter_changed": not torch.equal(a0, adapter.attn.in_proj_weight.detach()),
             "prototypes_are_parameters": any(n == "prototypes" for n, _ in adapter.named_parameters())})

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
