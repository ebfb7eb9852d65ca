import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

SIZE = 8


class HourglassLite(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU())
        self.up = nn.Sequential(nn.ConvTranspose2d(width, width, 2, stride=2), nn.ReLU())

    def forward(self, x):
        return self.up(self.down(x))


class KeypointNet(nn.Module):
    def __init__(self, n_keypoints=2, width=8):
        super().__init__()
        self.backbone = HourglassLite(width)
        self.heatmap_head = nn.Conv2d(width, n_keypoints, 1)
        self.visibility_head = nn.Linear(width, n_keypoints)

    def forward(self, x):
        feats = self.backbone(x)
        return self.heatmap_head(feats), self.visibility_head(feats.mean(dim=(2, 3)))


def decode_keypoints(heatmaps):
    """(x, y) pixel coordinates of the peak of each heatmap."""
    b, k, h, w = heatmaps.shape
    flat_idx = heatmaps.flatten(2).argmax(dim=-1)
    ys, xs = flat_idx // w, flat_idx % w
    return torch.stack([xs, ys], dim=-1).float()


class KeypointModule(pl.LightningModule):
    def __init__(self, lr=5e-3, coord_weight=0.1):
        super().__init__()
        self.net = KeypointNet()
        self.lr, self.coord_weight = lr, coord_weight

    def training_step(self, batch, batch_idx):
        images, coords, visible = batch
        heatmaps, vis_logits = self.net(images)
        pred = decode_keypoints(heatmaps)
        coord_loss = (F.smooth_l1_loss(pred, coords, reduction="none").sum(-1) * visible).mean()
        vis_loss = F.binary_cross_entropy_with_logits(vis_logits, visible)
        loss = vis_loss + self.coord_weight * coord_loss
        self.log_dict({"loss/coord": coord_loss, "loss/vis": vis_loss})
        return loss

    def validation_step(self, batch, batch_idx):
        images, coords, visible = batch
        pck = ((decode_keypoints(self.net(images)[0]) - coords).norm(dim=-1) < 1.5).float().mean()
        self.log("val/pck", pck)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[1], gamma=0.3)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


def make_data(n=24, k=2):
    g = torch.Generator().manual_seed(0)
    coords = torch.randint(1, SIZE - 1, (n, k, 2), generator=g).float()
    visible = (torch.rand(n, k, generator=g) > 0.2).float()
    yy, xx = torch.meshgrid(torch.arange(SIZE).float(), torch.arange(SIZE).float(), indexing="ij")
    blobs = torch.exp(-((xx - coords[..., 0, None, None]) ** 2 + (yy - coords[..., 1, None, None]) ** 2) / 2)
    images = (blobs * visible[..., None, None]).sum(dim=1, keepdim=True)
    return TensorDataset(images, coords, visible)


def main():
    pl.seed_everything(0)
    ds = make_data()
    module = KeypointModule()
    head_before = module.net.heatmap_head.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False)
    trainer.fit(module, DataLoader(ds, batch_size=8, shuffle=True), DataLoader(ds, batch_size=12))
    facts = {"heatmap_head_changed": not torch.equal(head_before, module.net.heatmap_head.weight)}
    return {"net": module.net}, facts

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
