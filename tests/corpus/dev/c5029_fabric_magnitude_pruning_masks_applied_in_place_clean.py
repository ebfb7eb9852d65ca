import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 24, "hidden": 48, "classes": 3, "sparsity": 0.5, "prune_every": 2, "lr": 5e-3, "epochs": 2}


class Net(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc1 = nn.Linear(cfg["in_dim"], cfg["hidden"])
        self.fc2 = nn.Linear(cfg["hidden"], cfg["hidden"])
        self.head = nn.Linear(cfg["hidden"], cfg["classes"])

    def forward(self, x):
        return self.head(F.relu(self.fc2(F.relu(self.fc1(x)))))


@torch.no_grad()
def magnitude_masks(model, sparsity):
    masks = {}
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Linear) and name != "head":
            thr = torch.quantile(mod.weight.abs().flatten(), sparsity)
            masks[name] = (mod.weight.abs() > thr).float()
    return masks


@torch.no_grad()
def apply_masks(model, masks):
    modules = dict(model.named_modules())
    for name, mask in masks.items():
        modules[name].weight.mul_(mask)


def train(fabric, model, optimizer, loader, cfg):
    masks, step = {}, 0
    for epoch in range(cfg["epochs"]):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            fabric.backward(loss)
            optimizer.step()
            step += 1
            if step % cfg["prune_every"] == 0:
                masks = magnitude_masks(model.module, cfg["sparsity"])
            apply_masks(model.module, masks)
    return masks


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, CFG["in_dim"], generator=g)
    y = (x[:, :3] * torch.tensor([1.0, -1.0, 0.5])).argmax(1)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g))
    model = Net(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    w0 = model.module.fc1.weight.detach().clone()
    masks = train(fabric, model, optimizer, loader, CFG)
    w = model.module.fc1.weight
    return {"model": model.module}, {
        "fc1_changed": not torch.equal(w0, w),
        "pruned_weights_stay_zero": bool((w[masks["fc1"] == 0] == 0).all()),
        "kept_weights_nonzero": bool((w[masks["fc1"] == 1] != 0).all()),
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
