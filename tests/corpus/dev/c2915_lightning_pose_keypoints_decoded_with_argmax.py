import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                                    nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())

    def forward(self, x):
        return self.layers(x)


class PoseNet(nn.Module):
    def __init__(self, n_kpts=3, width=8):
        super().__init__()
        self.backbone = Backbone(width)
        self.heatmap_head = nn.Conv2d(width, n_kpts, 1)
        self.visibility_head = nn.Linear(width, n_kpts)

    def forward(self, img):
        feats = self.backbone(img)
        return self.heatmap_head(feats), self.visibility_head(feats.mean(dim=(2, 3)))


def decode_keypoints(heatmaps):
    """(B, K, H, W) heatmaps -> (B, K, 2) (x, y) pixel coordinates of the peak, normalised to [0, 1]."""
    b, k, h, w = heatmaps.shape
    idx = heatmaps.flatten(2).argmax(dim=-1)
    xs = (idx % w).float() / (w - 1)
    ys = torch.div(idx, w, rounding_mode="floor").float() / (h - 1)
    return torch.stack([xs, ys], dim=-1)


class PoseModule(pl.LightningModule):
    def __init__(self, lr=2e-3):
        super().__init__()
        self.model = PoseNet()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        img, kpts, visible = batch
        heatmaps, vis_logits = self.model(img)
        coords = decode_keypoints(heatmaps)
        coord_loss = (F.smooth_l1_loss(coords, kpts, reduction="none").sum(-1) * visible).mean()
        vis_loss = F.binary_cross_entropy_with_logits(vis_logits, visible)
        loss = coord_loss + 0.5 * vis_loss
        self.log_dict({"train/coord": coord_loss, "train/vis": vis_loss})
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.model.parameters(), lr=self.lr, weight_decay=1e-4)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.9)}


def make_loader(n=24, size=8, k=3):
    g = torch.Generator().manual_seed(0)
    kpts = torch.rand(n, k, 2, generator=g)
    img = torch.zeros(n, 1, size, size)
    px = (kpts * (size - 1)).round().long()
    for i in range(n):
        for j in range(k):
            img[i, 0, px[i, j, 1], px[i, j, 0]] = 1.0
    img += 0.1 * torch.randn(n, 1, size, size, generator=g)
    visible = (torch.rand(n, k, generator=g) > 0.2).float()
    return DataLoader(TensorDataset(img, kpts, visible), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = PoseModule()
    head_before = module.model.heatmap_head.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, make_loader())
    facts = {"heatmap_head_changed": not torch.equal(head_before, module.model.heatmap_head.weight)}
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
