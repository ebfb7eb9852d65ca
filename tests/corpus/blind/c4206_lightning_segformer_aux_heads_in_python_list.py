import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Stage(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.BatchNorm2d(cout), nn.GELU())

    def forward(self, x):
        return self.conv(x)


class HierarchicalEncoder(nn.Module):
    def __init__(self, dims=(8, 16, 24)):
        super().__init__()
        chans = (3,) + tuple(dims)
        self.stages = nn.ModuleList([Stage(chans[i], chans[i + 1]) for i in range(len(dims))])

    def forward(self, x):
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class DeepSupervisedSegmenter(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.encoder = HierarchicalEncoder(cfg["dims"])
        self.decoder = nn.Conv2d(sum(cfg["dims"]), cfg["classes"], 1)
        self.aux_heads = [nn.Conv2d(d, cfg["classes"], 1) for d in cfg["dims"][:-1]]
        self.cfg = cfg

    def forward(self, img):
        feats = self.encoder(img)
        size = feats[0].shape[-2:]
        fused = torch.cat([F.interpolate(f, size, mode="bilinear", align_corners=False) for f in feats], 1)
        main = F.interpolate(self.decoder(fused), img.shape[-2:], mode="bilinear", align_corners=False)
        aux = [F.interpolate(h(f), img.shape[-2:], mode="bilinear", align_corners=False) for h, f in zip(self.aux_heads, feats)]
        return main, aux

    def training_step(self, batch, batch_idx):
        img, mask = batch
        main, aux = self(img)
        loss = F.cross_entropy(main, mask)
        for w, logits in zip(self.cfg["aux_weights"], aux):
            loss = loss + w * F.cross_entropy(logits, mask)
        self.log("train/loss", loss.item())
        return loss

    def validation_step(self, batch, batch_idx):
        img, mask = batch
        main, _ = self(img)
        self.log("val/pixel_acc", (main.argmax(1) == mask).float().mean().item())

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg["lr"], weight_decay=0.01)
        return [opt], [torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=10, power=1.0)]


def scenes(n=8, size=16, classes=3):
    g = torch.Generator().manual_seed(0)
    img = torch.randn(n, 3, size, size, generator=g)
    mask = ((img[:, 0] > 0).long() + (img[:, 2] > 0.7).long()).clamp(max=classes - 1)
    ds = TensorDataset(img, mask)
    return DataLoader(ds, batch_size=4, shuffle=True, generator=g), DataLoader(ds, batch_size=4)


def main():
    pl.seed_everything(0)
    cfg = {"dims": (8, 16, 24), "classes": 3, "aux_weights": (0.4, 0.2), "lr": 3e-3}
    model = DeepSupervisedSegmenter(cfg)
    aux0 = model.aux_heads[0].weight.detach().clone()
    dec0 = model.decoder.weight.detach().clone()
    train_dl, val_dl = scenes()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, train_dl, val_dl)
    return {"model": model, "aux_head_0": model.aux_heads[0].weight}, {
        "aux_head_changed": not torch.equal(aux0, model.aux_heads[0].weight),
        "decoder_changed": not torch.equal(dec0, model.decoder.weight),
        "aux_heads_registered": any(n.startswith("aux_heads") for n, _ in model.named_parameters()),
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
