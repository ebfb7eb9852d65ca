import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class InplaceLeakyScale(torch.autograd.Function):
    """Memory-saving activation: scales and rectifies the feature map in place."""

    @staticmethod
    def forward(ctx, x, scale, slope):
        x.mul_(scale.view(1, -1, 1, 1))
        F.leaky_relu_(x, slope)
        ctx.mark_dirty(x)
        ctx.save_for_backward(x, scale)
        ctx.slope = slope
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_out):
        y, scale = ctx.saved_tensors
        mask = torch.where(y > 0, torch.ones_like(y), torch.full_like(y, ctx.slope))
        g = grad_out * mask
        pre = torch.where(y > 0, y, y / ctx.slope)
        grad_scale = (g * pre / scale.view(1, -1, 1, 1)).sum((0, 2, 3))
        return g * scale.view(1, -1, 1, 1), grad_scale, None


class ScaledAct(nn.Module):
    def __init__(self, ch, slope=0.1):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(ch))
        self.slope = slope

    def forward(self, x):
        return InplaceLeakyScale.apply(x, self.scale, self.slope)


class TinyFPN(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.c3 = nn.Conv2d(3, ch, 3, 2, 1)
        self.c4 = nn.Conv2d(ch, ch, 3, 2, 1)
        self.lat3 = nn.Conv2d(ch, ch, 1)
        self.lat4 = nn.Conv2d(ch, ch, 1)
        self.act3, self.act4 = ScaledAct(ch), ScaledAct(ch)

    def forward(self, x):
        f3 = self.act3(self.c3(x))
        f4 = self.act4(self.c4(f3))
        p4 = self.lat4(f4)
        p3 = self.lat3(f3) + F.interpolate(p4, size=f3.shape[-2:], mode="nearest")
        return p3, p4


class CenterHeatmapDetector(pl.LightningModule):
    def __init__(self, num_classes=3):
        super().__init__()
        self.fpn = TinyFPN()
        self.heat = nn.Conv2d(16, num_classes, 3, padding=1)

    def training_step(self, batch, batch_idx):
        images, heatmaps = batch
        p3, _ = self.fpn(images)
        logits = self.heat(p3)
        loss = F.binary_cross_entropy_with_logits(logits, heatmaps)
        self.log("loss", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=1e-2, momentum=0.9)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(8, 3, 16, 16, generator=g)
    heat = (torch.rand(8, 3, 8, 8, generator=g) > 0.9).float()
    model = CenterHeatmapDetector()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(TensorDataset(images, heat), batch_size=4))
    return {"fpn": model.fpn}

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
