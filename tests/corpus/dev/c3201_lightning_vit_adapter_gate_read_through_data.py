import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PatchEmbed(nn.Module):
    def __init__(self, img=16, patch=4, dim=32):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, stride=patch)
        self.pos = nn.Parameter(torch.zeros(1, (img // patch) ** 2, dim))

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2) + self.pos


class Adapter(nn.Module):
    def __init__(self, dim, bottleneck=8):
        super().__init__()
        self.down = nn.Linear(dim, bottleneck)
        self.up = nn.Linear(bottleneck, dim)
        self.gate = nn.Parameter(torch.full((1,), 0.1))

    def forward(self, h):
        scale = torch.tanh(self.gate.data)
        return h + scale * self.up(F.gelu(self.down(h)))


class AdaptedViT(nn.Module):
    def __init__(self, dim=32, depth=2, n_cls=5):
        super().__init__()
        self.embed = PatchEmbed(dim=dim)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(dim, 4, dim * 2, dropout=0.0, batch_first=True) for _ in range(depth))
        self.adapters = nn.ModuleList(Adapter(dim) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_cls)

    def forward(self, x):
        h = self.embed(x)
        for blk, ad in zip(self.blocks, self.adapters):
            h = ad(blk(h))
        return self.head(self.norm(h).mean(1))


def freeze_backbone(model):
    for name, p in model.named_parameters():
        if not (name.startswith("adapters") or name.startswith("head")):
            p.requires_grad_(False)


class AdapterTuner(pl.LightningModule):
    def __init__(self, lr=3e-3):
        super().__init__()
        self.model = AdaptedViT()
        freeze_backbone(self.model)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.model(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=self.lr, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
        return {"optimizer": opt, "lr_scheduler": sched}


def image_loader(n=32):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, 3, 16, 16, generator=g), torch.randint(0, 5, (n,), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    tuner = AdapterTuner()
    g0 = tuner.model.adapters[0].gate.detach().clone()
    d0 = tuner.model.adapters[0].down.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(tuner, image_loader())
    facts = {"gate_changed": not torch.equal(g0, tuner.model.adapters[0].gate),
             "down_changed": not torch.equal(d0, tuner.model.adapters[0].down.weight)}
    return {"model": tuner.model}, facts

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
