import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"dims": (16, 32), "num_classes": 4, "lr_backbone": 5e-4, "lr_head": 2e-3, "epochs": 2, "drop_path": 0.0}


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.pw1, self.pw2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 0.1))

    def forward(self, x):
        y = self.pw2(F.gelu(self.pw1(self.norm(self.dwconv(x).permute(0, 2, 3, 1)))))
        return x + (self.gamma * y).permute(0, 3, 1, 2)


class ConvNeXtClassifier(nn.Module):
    def __init__(self, dims, num_classes):
        super().__init__()
        self.stem = nn.Conv2d(3, dims[0], 4, stride=4)
        self.stage1 = Block(dims[0])
        self.down = nn.Conv2d(dims[0], dims[1], 2, stride=2)
        self.stage2 = Block(dims[1])
        self.head_norm = nn.LayerNorm(dims[1])
        self.head = nn.Linear(dims[1], num_classes)

    @torch.no_grad()
    def forward_features(self, x):
        x = self.stage1(self.stem(x))
        x = self.stage2(self.down(x))
        return x.mean((-2, -1))

    def forward(self, x):
        return self.head(self.head_norm(self.forward_features(x)))


def build_optimizer(model, cfg):
    backbone = [p for n, p in model.named_parameters() if not n.startswith("head")]
    head = [p for n, p in model.named_parameters() if n.startswith("head")]
    return torch.optim.AdamW([{"params": backbone, "lr": cfg["lr_backbone"]}, {"params": head, "lr": cfg["lr_head"]}],
                             weight_decay=0.05)


def train_one_epoch(model, loader, optimizer, scheduler):
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scheduler.step()


def main():
    torch.manual_seed(0)
    model = ConvNeXtClassifier(CFG["dims"], CFG["num_classes"])
    compiled = torch.compile(model, backend="eager")
    optimizer = build_optimizer(model, CFG)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, 16, 16, generator=g)
    y = (x[:, 0].mean((1, 2)) > 0).long() * 2 + (x[:, 1].mean((1, 2)) > 0).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)
    s0 = model.stem.weight.detach().clone()
    h0 = model.head.weight.detach().clone()
    for _ in range(CFG["epochs"]):
        train_one_epoch(compiled, loader, optimizer, scheduler)
    return {"model": model}, {
        "backbone_changed": not torch.equal(s0, model.stem.weight),
        "head_changed": not torch.equal(h0, model.head.weight),
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
