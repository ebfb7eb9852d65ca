import torch
import torch.nn as nn
import torch.nn.functional as F

PRIMITIVES = ("none", "skip", "conv3", "dil_conv3")
CFG = {"C": 8, "edges": 3, "w_lr": 0.05, "a_lr": 3e-3, "epochs": 2, "bs": 8}


def make_op(name, C):
    if name == "none":
        return None
    if name == "skip":
        return nn.Identity()
    dil = 2 if name.startswith("dil") else 1
    return nn.Sequential(nn.ReLU(), nn.Conv2d(C, C, 3, padding=dil, dilation=dil, bias=False),
                         nn.BatchNorm2d(C, affine=False))


class MixedOp(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.ops = nn.ModuleList([make_op(p, C) or nn.Identity() for p in PRIMITIVES])

    def forward(self, x, w):
        out = 0.0
        for i, (name, op) in enumerate(zip(PRIMITIVES, self.ops)):
            out = out + w[i] * (x.mul(0.0) if name == "none" else op(x))
        return out


class Network(nn.Module):
    def __init__(self, cfg, n_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, cfg["C"], 3, padding=1, bias=False)
        self.edges = nn.ModuleList([MixedOp(cfg["C"]) for _ in range(cfg["edges"])])
        self.classifier = nn.Linear(cfg["C"], n_classes)
        self._alphas = torch.zeros(cfg["edges"], len(PRIMITIVES)).normal_(0, 1e-3).requires_grad_(True)

    def arch_parameters(self):
        return [self._alphas]

    def forward(self, x):
        w = F.softmax(self._alphas, dim=-1)
        h = self.stem(x)
        for i, edge in enumerate(self.edges):
            h = edge(h, w[i])
        return self.classifier(F.adaptive_avg_pool2d(h, 1).flatten(1))

    def genotype(self):
        with torch.no_grad():
            return [PRIMITIVES[i] for i in self._alphas[:, 1:].argmax(-1).add(1).tolist()]


class Architect:
    """First-order DARTS: the architecture step uses the validation loss at the current weights."""

    def __init__(self, model, cfg):
        self.model = model
        self.optimizer = torch.optim.Adam(model.arch_parameters(), lr=cfg["a_lr"], betas=(0.5, 0.999),
                                          weight_decay=1e-3)

    def step(self, x_val, y_val):
        self.optimizer.zero_grad()
        F.cross_entropy(self.model(x_val), y_val).backward()
        self.optimizer.step()


class SearchTrainer:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.w_optimizer = torch.optim.SGD(model.parameters(), lr=cfg["w_lr"], momentum=0.9, weight_decay=3e-4)
        self.architect = Architect(model, cfg)

    def train_epoch(self, train_data, val_data):
        (xt, yt), (xv, yv), bs = train_data, val_data, self.cfg["bs"]
        for i in range(0, len(xt), bs):
            self.architect.step(xv[i:i + bs], yv[i:i + bs])
            self.w_optimizer.zero_grad()
            loss = F.cross_entropy(self.model(xt[i:i + bs]), yt[i:i + bs])
            loss.backward()
            nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
            self.w_optimizer.step()

    def fit(self, train_data, val_data):
        for epoch in range(self.cfg["epochs"]):
            self.train_epoch(train_data, val_data)
        return self.model.genotype()


def split(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def main():
    torch.manual_seed(0)
    model = Network(CFG)
    trainer = SearchTrainer(model, CFG)
    a0 = model.arch_parameters()[0].detach().clone()
    w0 = model.edges[0].ops[2][1].weight.detach().clone()
    genotype = trainer.fit(split(seed=0), split(seed=1))
    return {"model": model, "alphas": model.arch_parameters()[0]}, {
        "alphas_changed": not torch.equal(a0, model.arch_parameters()[0].detach()),
        "op_weights_changed": not torch.equal(w0, model.edges[0].ops[2][1].weight),
        "genotype_len": len(genotype),
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
