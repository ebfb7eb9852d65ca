import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class AdaptiveLIF(nn.Module):
    """Leaky integrate-and-fire neuron with a learnable firing threshold (ALIF)."""

    def __init__(self, tau=2.0, v_threshold=1.0):
        super().__init__()
        self.tau = tau
        self.v_threshold = nn.Parameter(torch.tensor(v_threshold))

    def fire(self, v):
        return (v >= self.v_threshold).float()

    def forward(self, currents):  # (T, B, ...)
        v = torch.zeros_like(currents[0])
        spikes = []
        for x_t in currents:
            v = v + (x_t - v) / self.tau
            s = self.fire(v)
            v = v * (1.0 - s)  # hard reset
            spikes.append(s)
        return torch.stack(spikes)


class SpikingGestureNet(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.automatic_optimization = False
        self.conv = nn.Conv2d(2, 8, 3, padding=1)
        self.lif = AdaptiveLIF(tau=cfg["tau"])
        self.readout = nn.Linear(8 * 4 * 4, cfg["n_classes"])
        self.cfg = cfg

    def forward(self, events):  # events: (B, T, 2, H, W)
        b, t = events.shape[:2]
        cur = self.conv(events.flatten(0, 1)).view(b, t, 8, 8, 8).transpose(0, 1)
        spikes = self.lif(cur)  # (T, B, 8, 8, 8)
        rate = F.avg_pool2d(spikes.mean(0), 2)
        return self.readout(rate.flatten(1))

    def training_step(self, batch, batch_idx):
        opt_snn, opt_readout = self.optimizers()
        events, labels = batch
        loss = F.cross_entropy(self(events), labels)
        opt_snn.zero_grad()
        opt_readout.zero_grad()
        self.manual_backward(loss)
        opt_snn.step()
        opt_readout.step()
        self.log("train/loss", loss.item())

    def configure_optimizers(self):
        snn_params = list(self.conv.parameters()) + list(self.lif.parameters())
        return [torch.optim.Adam(snn_params, lr=self.cfg["lr_snn"]),
                torch.optim.SGD(self.readout.parameters(), lr=self.cfg["lr_readout"], momentum=0.9)]


def dvs_gesture_loader(n=24, t=4, classes=3):
    g = torch.Generator().manual_seed(0)
    events = (torch.rand(n, t, 2, 8, 8, generator=g) < 0.3).float() * 3.0
    labels = torch.randint(0, classes, (n,), generator=g)
    return DataLoader(TensorDataset(events, labels), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    cfg = {"tau": 2.0, "n_classes": 3, "lr_snn": 1e-2, "lr_readout": 5e-2}
    model = SpikingGestureNet(cfg)
    conv0 = model.conv.weight.detach().clone()
    read0 = model.readout.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, dvs_gesture_loader())
    return {"model": model}, {
        "conv_changed": not torch.equal(conv0, model.conv.weight),
        "readout_changed": not torch.equal(read0, model.readout.weight),
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
