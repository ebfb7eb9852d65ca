import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self, in_dim=16, width=32):
        super().__init__()
        self.blocks = nn.Sequential(nn.Linear(in_dim, width), nn.LayerNorm(width), nn.GELU(),
                                    nn.Linear(width, width), nn.GELU())
        self.out_dim = width

    def forward(self, x):
        return self.blocks(x)


class Model(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.backbone = Backbone()
        self.fc = nn.Linear(self.backbone.out_dim, num_classes)

    def forward(self, x):
        return self.fc(self.backbone(x))


def replace_classifier(model, num_classes):
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    nn.init.zeros_(model.fc.bias)
    return model


def param_groups(model, base_lr, backbone_scale=0.1, weight_decay=0.05):
    decay, no_decay = [], []
    for name, p in model.backbone.named_parameters():
        (no_decay if p.ndim == 1 else decay).append(p)
    return [
        {"params": decay, "lr": base_lr * backbone_scale, "weight_decay": weight_decay},
        {"params": no_decay, "lr": base_lr * backbone_scale, "weight_decay": 0.0},
        {"params": list(model.fc.parameters()), "lr": base_lr, "weight_decay": 0.0},
    ]


def warmup_cosine(optimizer, warmup, total):
    def factor(step):
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1 + torch.cos(torch.tensor(progress * 3.14159)).item())
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def finetune(model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()


def main():
    torch.manual_seed(0)
    model = replace_classifier(Model(num_classes=1000), num_classes=5)
    optimizer = torch.optim.AdamW(param_groups(model, base_lr=3e-3))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(80, 16, generator=g)
    y = x[:, :5].argmax(1)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    scheduler = warmup_cosine(optimizer, warmup=2, total=2 * len(loader))
    fc_before = model.fc.weight.detach().clone()
    finetune(model, loader, optimizer, scheduler)
    in_opt = any(p is model.fc.weight for grp in optimizer.param_groups for p in grp["params"])
    return {"model": model}, {"fc_in_optimizer": in_opt,
                              "fc_changed": not torch.equal(fc_before, model.fc.weight)}

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
