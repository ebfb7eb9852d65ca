import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TCNBlock(nn.Module):
    def __init__(self, ch, dilation):
        super().__init__()
        self.conv = nn.Conv1d(ch, ch, 3, padding=dilation, dilation=dilation)
        self.norm = nn.BatchNorm1d(ch)

    def forward(self, x):
        return x + F.relu(self.norm(self.conv(x)))


class ActivityRecognizer(pl.LightningModule):
    def __init__(self, in_ch=6, ch=16, n_classes=4, accumulate=3):
        super().__init__()
        self.inp = nn.Conv1d(in_ch, ch, 1)
        self.tcn = nn.Sequential(TCNBlock(ch, 1), TCNBlock(ch, 2), TCNBlock(ch, 4))
        self.cls = nn.Linear(ch, n_classes)
        self.accumulate = accumulate
        self.automatic_optimization = False
        self.running = []

    def forward(self, x):
        return self.cls(self.tcn(self.inp(x)).mean(-1))

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        sched = self.lr_schedulers()
        x, y = batch
        loss = F.cross_entropy(self(x), y) / self.accumulate
        self.manual_backward(loss)
        self.running.append(float(loss) * self.accumulate)
        if (batch_idx + 1) % self.accumulate == 0:
            nn.utils.clip_grad_norm_(self.parameters(), 1.0)
            opt.step()
            opt.zero_grad()
            sched.step()
            self.log("train_loss", sum(self.running) / len(self.running))
            self.running.clear()

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=3e-3)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(36, 6, 32, generator=g), torch.randint(0, 4, (36,), generator=g)
    model = ActivityRecognizer()
    before = model.tcn[0].conv.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True))
    model.zero_grad()
    F.cross_entropy(model(x[:8]), y[:8]).backward()
    changed = not torch.equal(before, model.tcn[0].conv.weight)
    return {"model": model}, {"tcn_changed": changed}

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
