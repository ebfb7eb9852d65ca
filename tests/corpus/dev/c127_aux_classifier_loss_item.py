import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class InceptionLite(nn.Module):
    """Main classifier plus an auxiliary classifier on intermediate features (deep supervision)."""

    def __init__(self, n_classes=5, width=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU())
        self.mixed = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                   nn.Flatten())
        self.aux_head = nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(width * 4, n_classes))
        self.head = nn.Linear(width, n_classes)

    def forward(self, x):
        h = self.stem(x)
        out = {"logits": self.head(self.mixed(h))}
        if self.training:
            out["aux_logits"] = self.aux_head(h)
        return out


def compute_loss(outputs, targets, aux_weight=0.4):
    main_loss = F.cross_entropy(outputs["logits"], targets)
    if "aux_logits" not in outputs:
        return main_loss
    aux_loss = F.cross_entropy(outputs["aux_logits"], targets)
    return main_loss + aux_weight * aux_loss.item()


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for images, targets in loader:
            optimizer.zero_grad()
            loss = compute_loss(model(images), targets)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(24, 3, 8, 8), torch.randint(0, 5, (24,))), batch_size=8)
    model = InceptionLite()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    aux_before = model.aux_head[2].weight.detach().clone()
    train(model, loader, optimizer)
    facts = {"aux_head_changed": not torch.equal(aux_before, model.aux_head[2].weight.detach())}
    return {"model": model}, facts

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
