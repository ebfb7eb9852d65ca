import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"dims": (12, 24, 32), "num_classes": 3, "frozen_stages": 1, "lr": 2e-3, "warmup_steps": 2}


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = LayerNorm2d(dim)
        self.pw = nn.Sequential(nn.Conv2d(dim, 4 * dim, 1), nn.GELU(), nn.Conv2d(4 * dim, dim, 1))

    def forward(self, x):
        return x + self.pw(self.norm(self.dw(x)))


class ConvNeXtFinetune(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d = cfg["dims"]
        self.stem = nn.Sequential(nn.Conv2d(3, d[0], 2, 2), LayerNorm2d(d[0]))
        self.stages = nn.ModuleList([
            CNBlock(d[0]),
            nn.Sequential(LayerNorm2d(d[0]), nn.Conv2d(d[0], d[1], 2, 2), CNBlock(d[1])),
            nn.Sequential(LayerNorm2d(d[1]), nn.Conv2d(d[1], d[2], 2, 2), CNBlock(d[2])),
        ])
        self.head = nn.Sequential(nn.LayerNorm(d[2]), nn.Linear(d[2], cfg["num_classes"]))
        self._freeze_stages()

    def _freeze_stages(self):
        """mmcls-style `frozen_stages`: the stem and the first N stages keep their pretrained weights."""
        if self.cfg["frozen_stages"] >= 0:
            self.stem.requires_grad_(False)
        for i in range(self.cfg["frozen_stages"]):
            self.stages[i].requires_grad_(False)

    def forward(self, x):
        x = self.stem(x)
        for s in self.stages:
            x = s(x)
        return self.head(x.mean((-2, -1)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("loss", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW([p for p in self.parameters() if p.requires_grad], lr=self.cfg["lr"])
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / self.cfg["warmup_steps"]))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(24, 3, 16, 16, generator=g)
    y = (x[:, 2].mean((1, 2)) * 8).long().clamp(-1, 1) + 1
    model = ConvNeXtFinetune(CFG)
    stem0 = model.stem[0].weight.detach().clone()
    s0 = model.stages[0].dw.weight.detach().clone()
    s2 = model.stages[2][2].dw.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g))
    return {"model": model}, {
        "stem_changed": not torch.equal(stem0, model.stem[0].weight),
        "stage0_changed": not torch.equal(s0, model.stages[0].dw.weight),
        "stage2_changed": not torch.equal(s2, model.stages[2][2].dw.weight),
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
