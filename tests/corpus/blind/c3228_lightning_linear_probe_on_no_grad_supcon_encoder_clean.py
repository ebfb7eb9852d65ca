import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SupConNet(nn.Module):
    def __init__(self, d_in=20, feat=16, proj=8, n_cls=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, feat), nn.ReLU())
        self.projection = nn.Linear(feat, proj)
        self.linear = nn.Linear(feat, n_cls)


class LinearProbe(pl.LightningModule):
    def __init__(self, lr=0.1):
        super().__init__()
        self.model = SupConNet()
        self.lr = lr

    def on_train_epoch_start(self):
        self.model.encoder.eval()

    def features(self, x):
        with torch.no_grad():
            return self.model.encoder(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self.model.linear(self.features(x))
        loss = F.cross_entropy(logits, y)
        self.log("probe_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("probe_acc", (self.model.linear(self.features(x)).argmax(-1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.model.linear.parameters(), lr=self.lr, momentum=0.9)
        return [opt], [torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3)]


def labeled(n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(torch.randn(n, 20, generator=g), torch.randint(0, 4, (n,), generator=g)),
                      batch_size=6, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    probe = LinearProbe()
    e0, l0 = probe.model.encoder[0].weight.detach().clone(), probe.model.linear.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(probe, labeled(), labeled(8, 1))
    facts = {"encoder_changed": not torch.equal(e0, probe.model.encoder[0].weight),
             "linear_changed": not torch.equal(l0, probe.model.linear.weight)}
    return {"model": probe.model}, facts

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
