import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class FeatureNet(nn.Module):
    def __init__(self, in_dim=20, dim=16, n_classes=6):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, dim))
        self.fc = nn.Linear(dim, n_classes)

    def forward(self, x):
        return self.fc(self.body(x))


class MnemonicsExemplars:
    """Per-class exemplars optimised as parameters (bilevel 'mnemonics' training)."""

    def __init__(self, init, lr=0.1):
        self.mnemonics = init.clone().requires_grad_(True)
        self.mnemonics = F.normalize(self.mnemonics, dim=-1) * init.norm(dim=-1, keepdim=True).mean()
        self.lr = lr

    def exemplar_step(self):
        with torch.no_grad():
            self.mnemonics -= self.lr * self.mnemonics.grad


def inner_finetune(model, exemplars, labels, lr=0.05):
    """One differentiable SGD step of the classifier on the exemplars (unrolled)."""
    logits = model(exemplars)
    loss = F.cross_entropy(logits, labels)
    grads = torch.autograd.grad(loss, list(model.fc.parameters()), create_graph=True)
    w, b = (p - lr * g for p, g in zip(model.fc.parameters(), grads))
    return w, b


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    model = fabric.setup(FeatureNet())
    old_x, old_y = torch.randn(12, 20, generator=g), torch.arange(6).repeat(2)
    val_x, val_y = torch.randn(24, 20, generator=g), torch.arange(6).repeat(4)
    memory = MnemonicsExemplars(old_x)
    for _ in range(3):
        w, b = inner_finetune(model, memory.mnemonics, old_y)
        q_loss = F.cross_entropy(F.linear(model.module.body(val_x), w, b), val_y)
        fabric.backward(q_loss)
        memory.exemplar_step()
    return {"model": model.module}, {"mnemonics_is_leaf": memory.mnemonics.is_leaf}

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
