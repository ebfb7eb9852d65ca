import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class VisionTransformer(nn.Module):
    def __init__(self, dim=16, depth=3, n_patches=4, frozen_stages=0):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, 4, 4)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, n_patches + 1, dim))
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
                                     for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.frozen_stages = frozen_stages
        self._freeze_stages()

    def _freeze_stages(self):
        # freeze position embedding and cls token together with the patch embedding
        self.pos_embed.requires_grad = False
        self.cls_token.requires_grad = False
        if self.frozen_stages >= 1:
            self.patch_embed.requires_grad_(False)
        for i in range(1, self.frozen_stages + 1):
            self.layers[i - 1].requires_grad_(False)

    def forward(self, img):
        x = self.patch_embed(img).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)[:, 0]


class ImageClassifier(pl.LightningModule):
    def __init__(self, n_cls=5):
        super().__init__()
        self.backbone = VisionTransformer(frozen_stages=0)
        self.head = nn.Linear(16, n_cls)

    def training_step(self, batch, batch_idx):
        img, y = batch
        loss = F.cross_entropy(self.head(self.backbone(img)), y, label_smoothing=0.1)
        self.log("loss", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(filter(lambda p: p.requires_grad, self.parameters()), lr=1e-3)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.StepLR(opt, 1, 0.5), "interval": "epoch"}}


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(24, 3, 8, 8, generator=g), torch.randint(0, 5, (24,), generator=g)),
                        batch_size=8, shuffle=True, generator=g)
    model = ImageClassifier()
    pos0 = model.backbone.pos_embed.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    facts = {"pos_embed_changed": not torch.equal(pos0, model.backbone.pos_embed),
             "frozen_stages": model.backbone.frozen_stages}
    return {"backbone": model.backbone, "head": model.head}, facts

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
