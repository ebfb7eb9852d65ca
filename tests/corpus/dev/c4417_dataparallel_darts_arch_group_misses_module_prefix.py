import torch
import torch.nn as nn
import torch.nn.functional as F

PRIMITIVES = ("skip", "conv3", "conv5", "avg_pool")
CFG = {"C": 8, "cells": 2, "edges": 3, "w_lr": 0.025, "w_momentum": 0.9, "w_wd": 3e-4, "alpha_lr": 3e-3,
       "alpha_wd": 1e-3, "epochs": 2}


def make_op(name, C):
    if name == "skip":
        return nn.Identity()
    if name == "avg_pool":
        return nn.AvgPool2d(3, stride=1, padding=1)
    k = 3 if name == "conv3" else 5
    return nn.Sequential(nn.ReLU(), nn.Conv2d(C, C, k, padding=k // 2, bias=False), nn.BatchNorm2d(C, affine=False))


class MixedOp(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.ops = nn.ModuleList([make_op(p, C) for p in PRIMITIVES])

    def forward(self, x, weights):
        return sum(w * op(x) for w, op in zip(weights, self.ops))


class SearchCell(nn.Module):
    def __init__(self, C, n_edges):
        super().__init__()
        self.edges = nn.ModuleList([MixedOp(C) for _ in range(n_edges)])

    def forward(self, x, weights):
        states = [x]
        for i, edge in enumerate(self.edges):
            states.append(edge(states[-1], weights[i]))
        return sum(states[1:]) / len(self.edges)


class DartsSearchNet(nn.Module):
    def __init__(self, cfg, n_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, cfg["C"], 3, padding=1, bias=False), nn.BatchNorm2d(cfg["C"]))
        self.cells = nn.ModuleList([SearchCell(cfg["C"], cfg["edges"]) for _ in range(cfg["cells"])])
        self.classifier = nn.Linear(cfg["C"], n_classes)
        self.alphas_normal = nn.Parameter(1e-3 * torch.randn(cfg["edges"], len(PRIMITIVES)))

    def forward(self, x):
        weights = F.softmax(self.alphas_normal, dim=-1)
        h = self.stem(x)
        for cell in self.cells:
            h = cell(h, weights)
        return self.classifier(F.adaptive_avg_pool2d(h, 1).flatten(1))


def build_optimizers(model, cfg):
    named = list(model.named_parameters())
    weights = [p for n, p in named if "alphas" not in n]
    arch = [p for n, p in named if n.startswith("alphas")]
    w_opt = torch.optim.SGD(weights, lr=cfg["w_lr"], momentum=cfg["w_momentum"], weight_decay=cfg["w_wd"])
    a_opt = torch.optim.Adam([{"params": arch, "lr": cfg["alpha_lr"], "weight_decay": cfg["alpha_wd"]}],
                             betas=(0.5, 0.999))
    return w_opt, a_opt


def cifar_like(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def search_epoch(model, w_opt, a_opt, train_data, val_data, bs=8):
    model.train()
    (xt, yt), (xv, yv) = train_data, val_data
    for i in range(0, len(xt), bs):
        a_opt.zero_grad()
        F.cross_entropy(model(xv[i:i + bs]), yv[i:i + bs]).backward()
        a_opt.step()
        w_opt.zero_grad()
        loss = F.cross_entropy(model(xt[i:i + bs]), yt[i:i + bs])
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        w_opt.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(DartsSearchNet(CFG))
    w_opt, a_opt = build_optimizers(model, CFG)
    alpha0 = model.module.alphas_normal.detach().clone()
    cell0 = model.module.cells[0].edges[0].ops[1][1].weight.detach().clone()
    for epoch in range(CFG["epochs"]):
        search_epoch(model, w_opt, a_opt, cifar_like(seed=0), cifar_like(seed=1))
    genotype = model.module.alphas_normal.argmax(-1).tolist()
    return {"model": model.module}, {
        "alphas_changed": not torch.equal(alpha0, model.module.alphas_normal),
        "cells_changed": not torch.equal(cell0, model.module.cells[0].edges[0].ops[1][1].weight),
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
