import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 12, "hidden": 24, "classes": 3, "cells": 2, "w_lr": 0.05, "a_lr": 3e-3, "epochs": 2}

OPS = {
    "linear": lambda d: nn.Linear(d, d),
    "mlp": lambda d: nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d)),
    "skip": lambda d: nn.Identity(),
    "zero": lambda d: nn.Linear(d, d, bias=False).requires_grad_(False).apply(lambda m: nn.init.zeros_(m.weight)
                                                                           if isinstance(m, nn.Linear) else None),
}


class MixedOp(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ops = nn.ModuleList([OPS[k](d) for k in OPS])

    def forward(self, x, weights):
        return sum(w * op(x) for w, op in zip(weights, self.ops))


class SearchNetwork(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.stem = nn.Linear(cfg["in_dim"], cfg["hidden"])
        self.cells = nn.ModuleList([MixedOp(cfg["hidden"]) for _ in range(cfg["cells"])])
        self.arch_alpha = nn.Parameter(1e-3 * torch.randn(cfg["cells"], len(OPS)))
        self.head = nn.Linear(cfg["hidden"], cfg["classes"])

    def forward(self, x):
        h = torch.relu(self.stem(x))
        for cell, a in zip(self.cells, self.arch_alpha.softmax(-1)):
            h = torch.relu(cell(h, a))
        return self.head(h)

    def weight_parameters(self):
        return [p for n, p in self.named_parameters() if not n.startswith("arch_") and p.requires_grad]

    def arch_parameters(self):
        return [self.arch_alpha]


class DARTS(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.net = SearchNetwork(cfg)

    def training_step(self, batch, batch_idx):
        x_tr, y_tr, x_val, y_val = batch
        w_opt, a_opt = self.optimizers()
        a_opt.zero_grad()
        self.manual_backward(F.cross_entropy(self.net(x_val), y_val))      # first-order architecture step
        a_opt.step()
        w_opt.zero_grad()
        loss = F.cross_entropy(self.net(x_tr), y_tr)
        self.manual_backward(loss)
        nn.utils.clip_grad_norm_(self.net.weight_parameters(), 5.0)
        w_opt.step()
        self.log("train_loss", loss.item())

    def on_train_epoch_end(self):
        self.lr_schedulers().step()

    def configure_optimizers(self):
        w_opt = torch.optim.SGD(self.net.weight_parameters(), lr=self.cfg["w_lr"], momentum=0.9, weight_decay=3e-4)
        a_opt = torch.optim.Adam(self.net.arch_parameters(), lr=self.cfg["a_lr"], betas=(0.5, 0.999))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(w_opt, T_max=self.cfg["epochs"])
        return [{"optimizer": w_opt, "lr_scheduler": {"scheduler": sched}}, {"optimizer": a_opt}]


def search_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2 * n, cfg["in_dim"], generator=g)
    y = (x[:, :cfg["classes"]] * 2).argmax(-1)
    return DataLoader(TensorDataset(x[:n], y[:n], x[n:], y[n:]), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = DARTS(CFG)
    a0, s0 = module.net.arch_alpha.detach().clone(), module.net.stem.weight.detach().clone()
    pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False).fit(module, search_loader(CFG))
    return {"net": module.net}, {
        "alphas_changed": not torch.equal(a0, module.net.arch_alpha),
        "weights_changed": not torch.equal(s0, module.net.stem.weight),
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
