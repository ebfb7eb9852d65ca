import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def resize_pos_embed(pos_embed, grid_size, num_prefix_tokens=1):
    """Bicubic resize of a (1, prefix + H*W, D) position table to a new patch grid (DeiT-style)."""
    posemb = pos_embed.data
    prefix, grid = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    old = int(math.sqrt(grid.shape[1]))
    if old == grid_size:
        return posemb
    grid = grid.reshape(1, old, old, -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(grid_size, grid_size), mode="bicubic", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, grid_size * grid_size, -1)
    return torch.cat([prefix, grid], dim=1)


class Block(nn.Module):
    def __init__(self, dim, heads=2, mlp_ratio=2):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * mlp_ratio), nn.GELU(), nn.Linear(dim * mlp_ratio, dim))

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class TinyViT(nn.Module):
    def __init__(self, pretrain_img=4, patch=2, dim=16, depth=2, n_classes=3):
        super().__init__()
        self.patch = patch
        self.patch_embed = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        n = (pretrain_img // patch) ** 2
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, images):
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        grid = images.shape[-1] // self.patch
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + resize_pos_embed(self.pos_embed, grid)
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x[:, 0]))


class FineTuneAtHigherRes(pl.LightningModule):
    def __init__(self, lr=3e-3):
        super().__init__()
        self.model = TinyViT()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        images, labels = batch
        loss = F.cross_entropy(self.model(images), labels, label_smoothing=0.1)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        images, labels = batch
        acc = (self.model(images).argmax(-1) == labels).float().mean()
        self.log("val/acc", acc)

    def configure_optimizers(self):
        decay = [p for n, p in self.model.named_parameters() if p.ndim > 1 and "pos_embed" not in n]
        no_decay = [p for n, p in self.model.named_parameters() if p.ndim <= 1 or "pos_embed" in n]
        return torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                  {"params": no_decay, "weight_decay": 0.0}], lr=self.lr)


def make_loaders(n=24, img=8):
    g = torch.Generator().manual_seed(0)
    images = torch.randn(n, 3, img, img, generator=g)
    labels = (images[:, 0, :4].mean(dim=(1, 2)) > 0).long() + (images[:, 1].mean(dim=(1, 2)) > 0.1).long()
    ds = TensorDataset(images, labels)
    return DataLoader(ds, batch_size=8, shuffle=True, generator=g), DataLoader(ds, batch_size=8)


def main():
    pl.seed_everything(0)
    module = FineTuneAtHigherRes()
    pos_before = module.model.pos_embed.detach().clone()
    train_loader, val_loader = make_loaders()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, train_loader, val_loader)
    facts = {"pos_embed_changed": not torch.equal(pos_before, module.model.pos_embed)}
    return {"model": module.model}, facts

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
