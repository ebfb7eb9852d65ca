import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 16, "hidden": 32, "bottleneck": 4, "layers": 2, "classes": 3, "adapter_lr": 5e-3, "head_lr": 1e-3,
       "epochs": 2}


class Adapter(nn.Module):
    """Houlsby bottleneck adapter, initialized to the identity (zero up-projection)."""

    def __init__(self, d, r):
        super().__init__()
        self.down = nn.Linear(d, r)
        self.up = nn.Linear(r, d)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h):
        return h + self.up(F.gelu(self.down(h)))


class AdaptedEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.inp = nn.Linear(cfg["in_dim"], cfg["hidden"])
        self.blocks = nn.ModuleList([nn.Linear(cfg["hidden"], cfg["hidden"]) for _ in range(cfg["layers"])])
        self.adapters = nn.ModuleList([Adapter(cfg["hidden"], cfg["bottleneck"]) for _ in range(cfg["layers"])])

    def forward(self, x):
        h = torch.relu(self.inp(x))
        for blk, ad in zip(self.blocks, self.adapters):
            h = ad(torch.relu(blk(h)))
        return h


def build_param_groups(model, cfg):
    adapter = [p for n, p in model.named_parameters() if "adapters" in n and ".down." in n]
    head = [p for n, p in model.named_parameters() if n.startswith("head.")]
    return [{"params": adapter, "lr": cfg["adapter_lr"]}, {"params": head, "lr": cfg["head_lr"]}]


class AdapterTuning(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.encoder = AdaptedEncoder(cfg)
        self.head = nn.Linear(cfg["hidden"], cfg["classes"])
        for n, p in self.encoder.named_parameters():
            p.requires_grad_("adapters" in n)

    def forward(self, x):
        return self.head(self.encoder(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("loss", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(build_param_groups(self, self.cfg), weight_decay=0.0)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def task_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, cfg["in_dim"], generator=g)
    return DataLoader(TensorDataset(x, (x[:, 0] > 0).long() + (x[:, 1] > 1).long()), batch_size=16, shuffle=True,
                      generator=g)


def main():
    pl.seed_everything(0)
    module = AdapterTuning(CFG)
    ad = module.encoder.adapters[0]
    down0, up0, head0 = ad.down.weight.detach().clone(), ad.up.weight.detach().clone(), module.head.weight.detach().clone()
    pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False).fit(module, task_loader(CFG))
    return {"module": module}, {
        "adapter_up_changed": not torch.equal(up0, ad.up.weight),
        "adapter_down_changed": not torch.equal(down0, ad.down.weight),
        "head_changed": not torch.equal(head0, module.head.weight),
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
