import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Function
from torch.utils.data import DataLoader, TensorDataset


class RoIAlignFunction(Function):
    def __init__(self, aligned_height, aligned_width, spatial_scale):
        super().__init__()
        self.aligned_height, self.aligned_width = int(aligned_height), int(aligned_width)
        self.spatial_scale = float(spatial_scale)

    def forward(self, features, rois):
        self.save_for_backward(rois)
        self.feature_size = features.size()
        out = []
        for roi in rois:
            b, x1, y1, x2, y2 = roi.tolist()
            x1, y1, x2, y2 = [int(v * self.spatial_scale) for v in (x1, y1, x2, y2)]
            crop = features[int(b), :, y1:max(y2, y1 + 1), x1:max(x2, x1 + 1)]
            out.append(F.adaptive_avg_pool2d(crop, (self.aligned_height, self.aligned_width)))
        return torch.stack(out)

    def backward(self, grad_output):
        (rois,) = self.saved_tensors
        grad_input = grad_output.new_zeros(self.feature_size)
        return grad_input, None


class TwoStageDetector(pl.LightningModule):
    def __init__(self, n_classes=3, out_size=2, spatial_scale=0.5):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        self.box_head = nn.Sequential(nn.Flatten(), nn.Linear(8 * out_size * out_size, 32), nn.ReLU())
        self.cls = nn.Linear(32, n_classes)
        self.reg = nn.Linear(32, 4)
        self.out_size, self.spatial_scale = out_size, spatial_scale

    def training_step(self, batch, batch_idx):
        images, rois, labels, deltas = batch
        feats = self.backbone(images)
        rois = rois.flatten(0, 1)
        pooled = RoIAlignFunction(self.out_size, self.out_size, self.spatial_scale)(feats, rois)
        h = self.box_head(pooled)
        return F.cross_entropy(self.cls(h), labels.flatten()) + F.smooth_l1_loss(self.reg(h), deltas.flatten(0, 1))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=1e-2, momentum=0.9)


def make_data(n=8, r=3):
    g = torch.Generator().manual_seed(0)
    images = torch.randn(n, 3, 16, 16, generator=g)
    xy = torch.randint(0, 8, (n, r, 2), generator=g).float()
    boxes = torch.cat([xy, xy + 6], dim=-1)
    batch_idx = torch.arange(n).float()[:, None, None].expand(n, r, 1)
    rois = torch.cat([batch_idx, boxes], dim=-1)
    return images, rois, torch.randint(0, 3, (n, r), generator=g), torch.randn(n, r, 4, generator=g)


def main():
    pl.seed_everything(0)
    loader = DataLoader(TensorDataset(*make_data()), batch_size=4)
    model = TwoStageDetector()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}

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
