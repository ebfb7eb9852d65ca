import math

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FramePredictor(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(6, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.decoder = nn.Conv2d(ch, 3, 3, padding=1)
        self.flow_head = nn.Conv2d(ch, 2, 3, padding=1)

    def forward(self, prev, cur):
        h = self.encoder(torch.cat([prev, cur], 1))
        return torch.sigmoid(self.decoder(h)), self.flow_head(h)


class UncertaintyWeightedPredictor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = FramePredictor()
        self.log_vars = nn.Parameter(torch.zeros(2))

    def weighted_total(self, losses):
        precision = [math.exp(-lv.item()) for lv in self.log_vars]
        total = sum(p * l for p, l in zip(precision, losses))
        return total + float(self.log_vars.sum().item())

    def training_step(self, batch, batch_idx):
        prev, cur, nxt, flow = batch
        pred, pred_flow = self.model(prev, cur)
        losses = [F.l1_loss(pred, nxt), F.smooth_l1_loss(pred_flow, flow)]
        total = self.weighted_total(losses)
        self.log_dict({"recon": losses[0].item(), "flow": losses[1].item()})
        return total

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=1e-3)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.StepLR(opt, 1, 0.9), "interval": "epoch"}}


def rollout(model, first, second, steps=2):
    frames = [first, second]
    with torch.no_grad():
        for _ in range(steps):
            nxt, _ = model(frames[-2], frames[-1])
            frames.append(nxt)
    return torch.stack(frames, 1)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    frames = torch.rand(12, 3, 3, 8, 8, generator=g)
    ds = TensorDataset(frames[:, 0], frames[:, 1], frames[:, 2], torch.randn(12, 2, 8, 8, generator=g))
    module = UncertaintyWeightedPredictor()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(module, DataLoader(ds, batch_size=4, shuffle=True, generator=g))
    return {"model": module.model, "log_vars": module.log_vars}, {"log_vars_changed": bool(module.log_vars.abs().sum() > 0)}

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
