import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def heatmaps_to_coords(heatmaps):
    """Peak location (x, y) of every joint heatmap, in heatmap pixels."""
    b, j, h, w = heatmaps.shape
    idx = heatmaps.flatten(2).argmax(-1)
    return torch.stack([idx % w, idx // w], -1).float()


def soft_argmax(heatmaps, beta):
    """Differentiable expectation of the joint location under softmax(beta * heatmap)."""
    b, j, h, w = heatmaps.shape
    prob = torch.softmax(beta * heatmaps.flatten(2), -1).view(b, j, h, w)
    xs = torch.arange(w, dtype=prob.dtype)
    ys = torch.arange(h, dtype=prob.dtype)
    return torch.stack([(prob.sum(2) * xs).sum(-1), (prob.sum(3) * ys).sum(-1)], -1)


class Bottleneck(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c // 2, 1), nn.BatchNorm2d(c // 2), nn.ReLU(),
                                  nn.Conv2d(c // 2, c, 3, padding=1), nn.BatchNorm2d(c))

    def forward(self, x):
        return F.relu(x + self.body(x))


class HRBackbone(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 2, 1), nn.BatchNorm2d(width), nn.ReLU())
        self.stage = nn.Sequential(Bottleneck(width), Bottleneck(width))

    def forward(self, x):
        return self.stage(self.stem(x))


class KeypointHead(nn.Module):
    def __init__(self, width, n_joints):
        super().__init__()
        self.refine = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.final_layer = nn.Conv2d(width, n_joints, 1)

    def forward(self, f):
        return self.final_layer(self.refine(f))


class IntegralPoseModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.automatic_optimization = False
        self.backbone = HRBackbone(cfg["width"])
        self.head = KeypointHead(cfg["width"], cfg["n_joints"])
        self.cfg = cfg
        self.beta = cfg["beta"]

    def forward(self, images):
        return self.head(self.backbone(images))

    def training_step(self, batch, batch_idx):
        opt_backbone, opt_head = self.optimizers()
        images, gt_coords = batch
        hm = self(images)
        coords = heatmaps_to_coords(hm)
        loss = F.smooth_l1_loss(coords, gt_coords)
        opt_backbone.zero_grad()
        opt_head.zero_grad()
        self.manual_backward(loss)
        opt_backbone.step()
        opt_head.step()
        self.log("train/coord_l1", loss.item())

    def configure_optimizers(self):
        opt_backbone = torch.optim.SGD(self.backbone.parameters(), lr=self.cfg["lr"] * 0.1, momentum=0.9)
        opt_head = torch.optim.Adam(self.head.parameters(), lr=self.cfg["lr"])
        return [opt_backbone, opt_head]


def make_loader(cfg, n=24, img=32):
    g = torch.Generator().manual_seed(0)
    images = torch.rand(n, 3, img, img, generator=g)
    coords = torch.rand(n, cfg["n_joints"], 2, generator=g) * (img // 2 - 1)
    return DataLoader(TensorDataset(images, coords), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    cfg = {"width": 16, "n_joints": 4, "beta": 5.0, "lr": 1e-3}
    model = IntegralPoseModule(cfg)
    head0 = model.head.final_layer.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, make_loader(cfg))
    return {"model": model}, {"head_changed": not torch.equal(head0, model.head.final_layer.weight)}

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
