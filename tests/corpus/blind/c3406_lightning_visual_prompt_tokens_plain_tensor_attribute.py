import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PatchViT(nn.Module):
    def __init__(self, dim=32, patch=4, depth=2, heads=4):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, 17, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, 2 * dim, dropout=0.0, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, depth)

    def tokens(self, x):
        t = self.patch(x).flatten(2).transpose(1, 2)
        return torch.cat([self.cls.expand(t.size(0), -1, -1), t], dim=1) + self.pos


class VisualPromptTuner(pl.LightningModule):
    """VPT-shallow: a frozen ViT, learnable prompt tokens prepended after the embeddings, a new head."""

    def __init__(self, n_prompts=4, dim=32, n_cls=5, lr=5e-3):
        super().__init__()
        self.backbone = PatchViT(dim)
        self.backbone.requires_grad_(False)
        self.prompts = torch.zeros(1, n_prompts, dim).uniform_(-0.1, 0.1).requires_grad_()
        self.head = nn.Linear(dim, n_cls)
        self.lr = lr

    def forward(self, x):
        t = self.backbone.tokens(x)
        t = torch.cat([t[:, :1], self.prompts.expand(t.size(0), -1, -1), t[:, 1:]], dim=1)
        return self.head(self.backbone.blocks(t)[:, 0])

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y, label_smoothing=0.1)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        opt = torch.optim.SGD(params, lr=self.lr, momentum=0.9)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.LinearLR(opt), "interval": "step"}}


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(23)
    data = TensorDataset(torch.randn(24, 3, 16, 16, generator=g), torch.randint(0, 5, (24,), generator=g))
    model = VisualPromptTuner()
    p0 = model.prompts.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(data, batch_size=8, shuffle=True))
    return {"head": model.head, "prompts": model.prompts}, {
        "prompts_changed": not torch.equal(p0, model.prompts),
        "n_trainable_registered": sum(p.numel() for p in model.parameters() if p.requires_grad),
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
