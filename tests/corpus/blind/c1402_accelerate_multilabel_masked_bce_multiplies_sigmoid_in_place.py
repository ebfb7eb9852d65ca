import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ImageTagger(nn.Module):
    def __init__(self, in_dim=24, hidden=32, n_tags=10):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.LayerNorm(hidden))
        self.classifier = nn.Linear(hidden, n_tags)

    def forward(self, x):
        return self.classifier(self.backbone(x))


def partial_label_bce(logits, targets, annotated):
    """BCE over the tags a rater actually looked at (annotated == 1)."""
    probs = torch.sigmoid(logits)
    probs.mul_(annotated)
    probs = probs.clamp(1e-6, 1 - 1e-6)
    return F.binary_cross_entropy(probs, targets * annotated)


def train(model, loader, optimizer, scheduler, accelerator, epochs=1):
    model.train()
    for _ in range(epochs):
        for x, targets, annotated in loader:
            loss = partial_label_bce(model(x), targets, annotated)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()


def main():
    set_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(48, 24, generator=g)
    targets = (torch.rand(48, 10, generator=g) > 0.7).float()
    annotated = (torch.rand(48, 10, generator=g) > 0.3).float()
    loader = DataLoader(TensorDataset(x, targets, annotated), batch_size=16, shuffle=True, generator=g)
    accelerator = Accelerator()
    model = ImageTagger()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    train(model, loader, optimizer, scheduler, accelerator)
    return {"model": model}

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
