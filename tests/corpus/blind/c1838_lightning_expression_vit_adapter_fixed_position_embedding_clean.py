import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.ln = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        return x + F.gelu(self.fc(self.ln(x)))


class TinyViT(nn.Module):
    def __init__(self, dim=32, depth=2, patch=4):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        self.blocks = nn.ModuleList(Block(dim) for _ in range(depth))


class Adapter(nn.Module):
    def __init__(self, dim, bottleneck=8):
        super().__init__()
        self.down, self.up = nn.Linear(dim, bottleneck), nn.Linear(bottleneck, dim)
        nn.init.normal_(self.up.weight, std=0.01)

    def forward(self, x):
        return x + self.up(F.relu(self.down(x)))


class ExpressionAdapterModel(pl.LightningModule):
    def __init__(self, n_classes=7, embed_dim=32, embed_len=16):
        super().__init__()
        self.backbone = TinyViT(embed_dim)
        self.backbone.requires_grad_(False)
        self.pos_embed = nn.Parameter(torch.randn(1, embed_len, embed_dim) * .02, requires_grad=False)
        self.adapters = nn.ModuleList(Adapter(embed_dim) for _ in self.backbone.blocks)
        self.head = nn.Linear(embed_dim, n_classes)

    def forward(self, images):
        x = self.backbone.patch(images).flatten(2).transpose(1, 2) + self.pos_embed
        for blk, adapter in zip(self.backbone.blocks, self.adapters):
            x = adapter(blk(x))
        return self.head(x.mean(1))

    def training_step(self, batch, batch_idx):
        images, labels = batch
        logits = self(images)
        return F.cross_entropy(logits, labels)

    def configure_optimizers(self):
        return torch.optim.AdamW([p for p in self.parameters() if p.requires_grad], lr=1e-3)


def main():
    pl.seed_everything(0)
    images, labels = torch.randn(32, 3, 16, 16), torch.randint(0, 7, (32,))
    loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True)
    model = ExpressionAdapterModel()
    a0 = model.adapters[0].down.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.zero_grad(set_to_none=True)
    model.training_step(next(iter(loader)), 0).backward()
    return {"model": model}, {"adapters_changed": not torch.equal(a0, model.adapters[0].down.weight)}

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
