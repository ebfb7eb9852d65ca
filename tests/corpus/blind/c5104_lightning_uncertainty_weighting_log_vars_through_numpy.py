import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 20, "hidden": 40, "n_classes": 3, "lr": 3e-3, "epochs": 2, "tasks": ("regression", "classification")}


def uncertainty_weighted(losses, log_vars):
    """Kendall et al. homoscedastic weighting: sum_i exp(-s_i) * L_i + s_i."""
    s = log_vars.detach().cpu().numpy()
    precision = np.exp(-s)
    total = sum(float(precision[i]) * losses[i] for i in range(len(losses)))
    return total + float(s.sum()), precision


class MultiTaskNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(cfg["in_dim"], cfg["hidden"]), nn.ReLU(),
                                   nn.Linear(cfg["hidden"], cfg["hidden"]), nn.ReLU())
        self.reg_head = nn.Linear(cfg["hidden"], 1)
        self.cls_head = nn.Linear(cfg["hidden"], cfg["n_classes"])

    def forward(self, x):
        h = self.trunk(x)
        return self.reg_head(h).squeeze(-1), self.cls_head(h)


class MultiTaskModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.net = MultiTaskNet(cfg)
        self.log_vars = nn.Parameter(torch.zeros(len(cfg["tasks"])))

    def training_step(self, batch, batch_idx):
        x, y_reg, y_cls = batch
        reg, logits = self.net(x)
        losses = [F.mse_loss(reg, y_reg), F.cross_entropy(logits, y_cls)]
        loss, precision = uncertainty_weighted(losses, self.log_vars)
        self.log_dict({f"w_{t}": float(p) for t, p in zip(self.cfg["tasks"], precision)})
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam([{"params": self.net.parameters()},
                                {"params": [self.log_vars], "lr": 10 * self.cfg["lr"]}], lr=self.cfg["lr"])
        sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=4)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def multitask_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, cfg["in_dim"], generator=g)
    y_reg = 5.0 * x[:, 0] + torch.randn(n, generator=g)
    y_cls = x[:, 1:1 + cfg["n_classes"]].argmax(-1)
    return DataLoader(TensorDataset(x, y_reg, y_cls), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = MultiTaskModule(CFG)
    lv0, head0 = module.log_vars.detach().clone(), module.net.reg_head.weight.detach().clone()
    pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False).fit(module, multitask_loader(CFG))
    return {"module": module}, {
        "log_vars_changed": not torch.equal(lv0, module.log_vars),
        "reg_head_changed": not torch.equal(head0, module.net.reg_head.weight),
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
