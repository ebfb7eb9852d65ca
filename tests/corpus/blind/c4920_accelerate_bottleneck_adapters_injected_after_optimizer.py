import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

CFG = {"dim": 24, "bottleneck": 4, "n_classes": 3, "lr": 3e-3}


class Adapter(nn.Module):
    def __init__(self, dim, bottleneck):
        super().__init__()
        self.down, self.up = nn.Linear(dim, bottleneck), nn.Linear(bottleneck, dim)
        nn.init.zeros_(self.up.weight)

    def forward(self, x):
        return x + self.up(F.relu(self.down(x)))


class Backbone(nn.Module):
    def __init__(self, dim, n_classes):
        super().__init__()
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(dim, dim), nn.GELU()) for _ in range(2))
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def inject_adapters(model, cfg):
    for i, block in enumerate(model.blocks):
        model.blocks[i] = nn.Sequential(block, Adapter(cfg["dim"], cfg["bottleneck"]))
    return model


def build_optimizer(model, cfg):
    for p in model.blocks.parameters():
        p.requires_grad_(False)
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg["lr"])


def main():
    set_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, CFG["dim"], generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    model = Backbone(CFG["dim"], CFG["n_classes"])
    optimizer = build_optimizer(model, CFG)
    model = inject_adapters(model, CFG)
    accelerator = Accelerator()
    model, optimizer, loader = accelerator.prepare(model, optimizer, DataLoader(TensorDataset(x, y), batch_size=16))
    ad0, head0 = model.blocks[0][1].down.weight.detach().clone(), model.head.weight.detach().clone()
    for _ in range(2):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
    return {"model": model}, {"adapter_changed": not torch.equal(ad0, model.blocks[0][1].down.weight),
                              "head_changed": not torch.equal(head0, model.head.weight)}

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
