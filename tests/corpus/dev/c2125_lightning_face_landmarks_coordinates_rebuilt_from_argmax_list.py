import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class HeatmapNet(nn.Module):
    def __init__(self, n_points=5, width=8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.heat = nn.Conv2d(width, n_points, 1)

    def forward(self, x):
        return self.heat(self.body(x))


def heatmaps_to_coords(heatmaps):
    """Peak location of each heatmap as (x, y) in [0, 1]."""
    b, k, h, w = heatmaps.shape
    flat_idx = heatmaps.flatten(2).argmax(-1).tolist()
    coords = [[[(i % w) / (w - 1), (i // w) / (h - 1)] for i in row] for row in flat_idx]
    return torch.tensor(coords, requires_grad=True)


class LandmarkModule(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.net = HeatmapNet()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        images, landmarks = batch
        pred = heatmaps_to_coords(self.net(images))
        loss = F.smooth_l1_loss(pred, landmarks)
        self.log("nme", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)}


def main():
    pl.seed_everything(0)
    images, landmarks = torch.randn(16, 3, 12, 12), torch.rand(16, 5, 2)
    model = LandmarkModule()
    w0 = model.net.heat.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(
        model, DataLoader(TensorDataset(images, landmarks), batch_size=4, shuffle=True))
    model.training_step((images[:4], landmarks[:4]), 0).backward()
    return ({"model": model}, {"heatmap_head_changed": not torch.equal(w0, model.net.heat.weight)})

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
