import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, 5, padding=2)
        self.norm = nn.GroupNorm(4, cout)

    def forward(self, x):
        return F.gelu(self.norm(self.conv(x)))


class ECGClassifier(nn.Module):
    def __init__(self, n_leads=2, n_classes=4):
        super().__init__()
        self.blocks = nn.Sequential(ConvBlock(n_leads, 8), nn.MaxPool1d(2), ConvBlock(8, 16))
        self.head = nn.Linear(16, n_classes)

    def forward(self, x):
        return self.head(self.blocks(x).mean(dim=-1))


def clip_and_log(fabric, model, optimizer, max_norm, history):
    """Clip, record the pre-clip gradient norm, and reset the gradient buffers for the next batch."""
    norm = fabric.clip_gradients(model, optimizer, max_norm=max_norm)
    history.append(float(norm))
    optimizer.zero_grad(set_to_none=True)


def fit(fabric, model, optimizer, scheduler, loader, epochs=2):
    history = []
    model.train()
    for _ in range(epochs):
        for signals, labels in loader:
            loss = F.cross_entropy(model(signals), labels)
            fabric.backward(loss)
            clip_and_log(fabric, model, optimizer, max_norm=1.0, history=history)
            optimizer.step()
        scheduler.step()
    return history


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(4)
    g = torch.Generator().manual_seed(4)
    signals = torch.randn(40, 2, 32, generator=g)
    labels = torch.randint(0, 4, (40,), generator=g)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(signals, labels), batch_size=8, shuffle=True, generator=g))
    model = ECGClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2)
    model, optimizer = fabric.setup(model, optimizer)
    head0 = model.module.head.weight.detach().clone()
    norms = fit(fabric, model, optimizer, scheduler, loader)
    return {"model": model.module}, {"head_changed": not torch.equal(head0, model.module.head.weight),
                                     "grad_norms_logged": len(norms) > 0 and min(norms) > 0}

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
