import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class PatchDiscriminator(nn.Module):
    def __init__(self, ch=3, width=8, n_layers=3):
        super().__init__()
        blocks, c = [], ch
        for i in range(n_layers):
            blocks.append(nn.Sequential(nn.Conv2d(c, width * 2 ** i, 3, 2, 1), nn.LeakyReLU(0.2)))
            c = width * 2 ** i
        self.blocks = nn.ModuleList(blocks)
        self.out = nn.Conv2d(c, 1, 3, 1, 1)

    def forward(self, x):
        feats = []
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        feats.append(self.out(x))
        return feats


class LocalEnhancer(nn.Module):
    def __init__(self, ch=3, width=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(ch, width, 3, 1, 1), nn.ReLU(), nn.Conv2d(width, width, 3, 1, 1), nn.ReLU())
        self.dec = nn.Conv2d(width, ch, 3, 1, 1)

    def forward(self, label_map):
        return torch.tanh(self.dec(self.enc(label_map)))


def feature_matching_loss(fake_feats, real_feats, n_layers, lambda_feat=10.0):
    feat_weight = 4.0 / (n_layers + 1)
    loss = 0.0
    for fake, real in zip(fake_feats[:-1], real_feats[:-1]):
        loss = loss + feat_weight * lambda_feat * F.l1_loss(fake, real.detach())
    return loss


class FeatureMatchingWarmup(pl.LightningModule):
    """First stage of the schedule: the generator is fitted to a pretrained discriminator's features."""

    def __init__(self, discriminator, lr=2e-4):
        super().__init__()
        self.generator = LocalEnhancer()
        self.discriminator = discriminator
        self.discriminator.requires_grad_(False)
        self.lr = lr

    def on_train_epoch_start(self):
        self.discriminator.eval()

    def disc_features(self, img):
        return [f.data for f in self.discriminator(img)]

    def training_step(self, batch, batch_idx):
        label_map, real = batch
        fake = self.generator(label_map)
        fake_feats = self.disc_features(fake)
        with torch.no_grad():
            real_feats = self.discriminator(real)
        loss = feature_matching_loss(fake_feats, real_feats, len(self.discriminator.blocks))
        self.log("train/g_feat", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.generator.parameters(), lr=self.lr, betas=(0.5, 0.999))
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
        return [opt], [sched]


def make_loader(n=16, bs=4):
    g = torch.Generator().manual_seed(0)
    label_maps = torch.randn(n, 3, 16, 16, generator=g)
    photos = torch.tanh(label_maps.flip(1) * 0.5)
    return DataLoader(TensorDataset(label_maps, photos), batch_size=bs, shuffle=True)


def main():
    pl.seed_everything(0)
    model = FeatureMatchingWarmup(PatchDiscriminator())
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=2, logger=False)
    trainer.fit(model, make_loader())
    return {"generator": model.generator}

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
