import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PatchEmbed(nn.Module):
    def __init__(self, in_ch=3, dim=32, patch=4):
        super().__init__()
        self.proj = nn.Conv2d(in_ch, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class TinyViT(nn.Module):
    def __init__(self, dim=32, depth=2, heads=4):
        super().__init__()
        self.patch_embed = PatchEmbed(dim=dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        return self.norm(self.blocks(self.patch_embed(x))).mean(dim=1)


def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


class ViTFineTuner(pl.LightningModule):
    """Linear probe for one epoch, then unfreeze the backbone (gradual fine-tuning)."""

    def __init__(self, n_cls=4, lr=1e-3, unfreeze_at=1):
        super().__init__()
        self.backbone = TinyViT()
        self.head = nn.Linear(32, n_cls)
        self.lr, self.unfreeze_at = lr, unfreeze_at
        set_trainable(self.backbone, False)

    def on_train_epoch_start(self):
        if self.current_epoch == self.unfreeze_at:
            set_trainable(self.backbone, True)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.head(self.backbone(x)), y)
        self.log("train_loss", loss.detach())
        return loss

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=self.lr, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        return [opt], [sched]


def main():
    pl.seed_everything(0)
    x, y = torch.randn(16, 3, 16, 16), torch.randint(0, 4, (16,))
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    model = ViTFineTuner()
    pe0 = model.backbone.patch_embed.proj.weight.detach().clone()
    head0 = model.head.weight.detach().clone()
    pl.Trainer(max_epochs=3, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model},
            {"backbone_changed": not torch.equal(pe0, model.backbone.patch_embed.proj.weight),
             "head_changed": not torch.equal(head0, model.head.weight)})

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
