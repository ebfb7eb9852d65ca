import torch
import torch.nn as nn
import torch.nn.functional as F

PRIMITIVES = ("skip", "sep_conv3", "avg_pool", "max_pool")
CFG = {"C": 8, "cells": 2, "edges": 3, "w_lr": 0.025, "a_lr": 3e-4, "epochs": 2, "bs": 8}


def op(name, C):
    if name == "skip":
        return nn.Identity()
    if name == "avg_pool":
        return nn.AvgPool2d(3, 1, 1, count_include_pad=False)
    if name == "max_pool":
        return nn.MaxPool2d(3, 1, 1)
    return nn.Sequential(nn.ReLU(inplace=False), nn.Conv2d(C, C, 3, padding=1, groups=C, bias=False),
                         nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C, affine=False))


class Cell(nn.Module):
    def __init__(self, C, n_edges):
        super().__init__()
        self.edges = nn.ModuleList([nn.ModuleList([op(p, C) for p in PRIMITIVES]) for _ in range(n_edges)])

    def forward(self, x, weights):
        for e, ops in enumerate(self.edges):
            x = sum(w * o(x) for w, o in zip(weights[e], ops))
        return x


class SearchNetwork(nn.Module):
    def __init__(self, cfg, n_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, cfg["C"], 3, padding=1, bias=False), nn.BatchNorm2d(cfg["C"]))
        self.cells = nn.ModuleList([Cell(cfg["C"], cfg["edges"]) for _ in range(cfg["cells"])])
        self.classifier = nn.Linear(cfg["C"], n_classes)
        self.alphas = nn.Parameter(1e-3 * torch.randn(cfg["edges"], len(PRIMITIVES)))

    def arch_parameters(self):
        return [self.alphas]

    def weight_parameters(self):
        return [p for n, p in self.named_parameters() if n != "alphas"]

    def forward(self, x):
        w = F.softmax(self.alphas, dim=-1)
        h = self.stem(x)
        for cell in self.cells:
            h = cell(h, w)
        return self.classifier(F.adaptive_avg_pool2d(h, 1).flatten(1))


def build_optimizers(net, cfg):
    w_opt = torch.optim.SGD(net.weight_parameters(), lr=cfg["w_lr"], momentum=0.9, weight_decay=3e-4)
    a_opt = torch.optim.Adam(net.arch_parameters(), lr=cfg["a_lr"], betas=(0.5, 0.999), weight_decay=1e-3)
    return w_opt, a_opt


def data(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def search(model, w_opt, a_opt, train_set, val_set, cfg):
    (xt, yt), (xv, yv) = train_set, val_set
    for epoch in range(cfg["epochs"]):
        for i in range(0, len(xt), cfg["bs"]):
            a_opt.zero_grad()
            F.cross_entropy(model(xv[i:i + cfg["bs"]]), yv[i:i + cfg["bs"]]).backward()
            a_opt.step()
            w_opt.zero_grad()
            F.cross_entropy(model(xt[i:i + cfg["bs"]]), yt[i:i + cfg["bs"]]).backward()
            nn.utils.clip_grad_norm_(model.module.weight_parameters(), 5.0)
            w_opt.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(SearchNetwork(CFG))
    w_opt, a_opt = build_optimizers(model.module, CFG)
    a0 = model.module.alphas.detach().clone()
    s0 = model.module.stem[0].weight.detach().clone()
    search(model, w_opt, a_opt, data(seed=0), data(seed=1), CFG)
    return {"model": model.module}, {
        "alphas_changed": not torch.equal(a0, model.module.alphas.detach()),
        "stem_changed": not torch.equal(s0, model.module.stem[0].weight),
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
