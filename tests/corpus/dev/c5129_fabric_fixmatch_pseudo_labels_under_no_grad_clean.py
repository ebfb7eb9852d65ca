import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 16, "classes": 4, "threshold": 0.4, "lambda_u": 1.0, "mu": 2, "lr": 0.03, "epochs": 2}


def weak_aug(x, g):
    return x + 0.05 * torch.randn(x.shape, generator=g)


def strong_aug(x, g):
    mask = (torch.rand(x.shape, generator=g) > 0.3).float()
    return x * mask + 0.3 * torch.randn(x.shape, generator=g)


@torch.no_grad()
def pseudo_label(model, x_weak, threshold):
    probs = model(x_weak).softmax(-1)
    conf, targets = probs.max(-1)
    return targets, (conf >= threshold).float()


def train_one_epoch(fabric, model, optimizer, scheduler, labeled, unlabeled, cfg, g):
    model.train()
    for (xl, yl), (xu,) in zip(labeled, unlabeled):
        targets, mask = pseudo_label(model, weak_aug(xu, g), cfg["threshold"])
        sup = F.cross_entropy(model(weak_aug(xl, g)), yl)
        unsup = (F.cross_entropy(model(strong_aug(xu, g)), targets, reduction="none") * mask).mean()
        loss = sup + cfg["lambda_u"] * unsup
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        scheduler.step()
    return mask.mean().item()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, CFG["in_dim"], generator=g)
    y = x[:, :CFG["classes"]].argmax(-1)
    labeled = DataLoader(TensorDataset(x[:32], y[:32]), batch_size=8, shuffle=True, generator=g)
    unlabeled = DataLoader(TensorDataset(x[32:]), batch_size=8 * CFG["mu"], shuffle=True, generator=g)
    model = nn.Sequential(nn.Linear(CFG["in_dim"], 64), nn.ReLU(), nn.Linear(64, CFG["classes"]))
    optimizer = torch.optim.SGD(model.parameters(), lr=CFG["lr"], momentum=0.9, nesterov=True)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 ** (s / 8))
    model, optimizer = fabric.setup(model, optimizer)
    labeled, unlabeled = fabric.setup_dataloaders(labeled, unlabeled)
    w0 = model.module[0].weight.detach().clone()
    for _ in range(CFG["epochs"]):
        train_one_epoch(fabric, model, optimizer, scheduler, labeled, unlabeled, CFG, g)
    xl, yl = next(iter(labeled))
    (xu,) = next(iter(unlabeled))
    targets, mask = pseudo_label(model, xu, 0.0)
    model.zero_grad()
    (F.cross_entropy(model(xl), yl) + F.cross_entropy(model(strong_aug(xu, g)), targets)).backward()
    return {"model": model.module}, {"model_changed": not torch.equal(w0, model.module[0].weight)}

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
