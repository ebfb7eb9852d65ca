import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AudioBackbone(nn.Module):
    def __init__(self, n_mels=16, dim=24):
        super().__init__()
        self.conv1 = nn.Conv1d(n_mels, dim, 3, padding=1)
        self.conv2 = nn.Conv1d(dim, dim, 3, padding=1)

    def forward(self, x):
        return F.relu(self.conv2(F.relu(self.conv1(x)))).mean(-1)


class EventTagger(nn.Module):
    def __init__(self, dim=24, n_events=5):
        super().__init__()
        self.backbone = AudioBackbone(dim=dim)
        self.head = nn.Linear(dim, n_events)

    def forward(self, x):
        return self.head(self.backbone(x))


def set_trainable(module, flag):
    for p in module.parameters():
        if p.requires_grad:
            p.requires_grad = flag


def run_epoch(model, loader, optimizer):
    for x, y in loader:
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(27)
    loader = DataLoader(TensorDataset(torch.randn(32, 16, 20, generator=g), (torch.rand(32, 5, generator=g) > 0.7).float()),
                        batch_size=8, shuffle=True, generator=g)
    model = EventTagger()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    set_trainable(model.backbone, False)
    run_epoch(model, loader, optimizer)
    set_trainable(model.backbone, True)
    for group in optimizer.param_groups:
        group["lr"] = 3e-4
    conv1_before = model.backbone.conv1.weight.detach().clone()
    run_epoch(model, loader, optimizer)
    return {"model": model}, {"backbone_changed_after_unfreeze": not torch.equal(conv1_before, model.backbone.conv1.weight)}

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
