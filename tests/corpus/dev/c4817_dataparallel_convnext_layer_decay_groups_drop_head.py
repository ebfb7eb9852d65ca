import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"dims": (16, 32, 48), "depths": (1, 1, 1), "num_classes": 5, "base_lr": 2e-3, "layer_decay": 0.7,
       "weight_decay": 0.05, "epochs": 2}


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-1))

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(F.gelu(self.pwconv1(self.norm(y))))
        return x + (self.gamma * y).permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    def __init__(self, dims, depths, num_classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 4, stride=4), LayerNorm2d(dims[0]))
        stages = []
        for i, (dim, depth) in enumerate(zip(dims, depths)):
            down = nn.Identity() if i == 0 else nn.Sequential(LayerNorm2d(dims[i - 1]), nn.Conv2d(dims[i - 1], dim, 2, 2))
            stages.append(nn.Sequential(down, *[ConvNeXtBlock(dim) for _ in range(depth)]))
        self.stages = nn.ModuleList(stages)
        self.norm = nn.LayerNorm(dims[-1])
        self.head = nn.Linear(dims[-1], num_classes)

    def forward(self, x):
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.head(self.norm(x.mean((-2, -1))))


def get_layer_id(name, num_layers):
    if name.startswith("stem"):
        return 0
    if name.startswith("stages."):
        return int(name.split(".")[1]) + 1
    return num_layers


def param_groups_layer_decay(model, cfg):
    """Layer-wise lr decay (ConvNeXt / BEiT fine-tuning recipe): stem gets the smallest lr, the head the base lr."""
    num_layers = len(model.stages) + 1
    scales = [cfg["layer_decay"] ** (num_layers - i) for i in range(num_layers + 1)]
    groups = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        layer_id = get_layer_id(name, num_layers)
        no_decay = p.ndim == 1 or name.endswith(".gamma")
        key = (layer_id, no_decay)
        if key not in groups:
            groups[key] = {"params": [], "lr": cfg["base_lr"] * scales[layer_id],
                           "weight_decay": 0.0 if no_decay else cfg["weight_decay"]}
        groups[key]["params"].append(p)
    return [groups[k] for k in sorted(groups) if k[0] < num_layers]


def train_one_epoch(model, loader, optimizer, scheduler):
    model.train()
    for images, labels in loader:
        loss = F.cross_entropy(model(images), labels, label_smoothing=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(ConvNeXt(CFG["dims"], CFG["depths"], CFG["num_classes"]))
    optimizer = torch.optim.AdamW(param_groups_layer_decay(model.module, CFG))
    g = torch.Generator().manual_seed(0)
    images = torch.randn(32, 3, 32, 32, generator=g)
    labels = (images[:, 0].mean((1, 2)) * 10).long().clamp(-2, 2) + 2
    loader = DataLoader(TensorDataset(images, labels), batch_size=8, shuffle=True, generator=g)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=CFG["epochs"] * len(loader))
    head0 = model.module.head.weight.detach().clone()
    stage0 = model.module.stages[1][1].pwconv1.weight.detach().clone()
    for _ in range(CFG["epochs"]):
        train_one_epoch(model, loader, optimizer, scheduler)
    return {"model": model.module}, {
        "head_changed": not torch.equal(head0, model.module.head.weight),
        "stage_changed": not torch.equal(stage0, model.module.stages[1][1].pwconv1.weight),
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
