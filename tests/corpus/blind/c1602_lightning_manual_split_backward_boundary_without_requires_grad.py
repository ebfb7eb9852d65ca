import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Stage1(nn.Module):
    def __init__(self, n_in=16, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class Stage2(nn.Module):
    def __init__(self, hidden=32, n_out=3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_out))

    def forward(self, h):
        return self.net(h)


class TwoStageClassifier(pl.LightningModule):
    """Backward is run stage by stage (as a pipeline would), so each stage can live on its own device."""

    def __init__(self, lr=0.05):
        super().__init__()
        self.automatic_optimization = False
        self.stage1, self.stage2 = Stage1(), Stage2()
        self.lr = lr

    def stage_boundary(self, h):
        return h.detach()

    def training_step(self, batch, batch_idx):
        x, y = batch
        opt1, opt2 = self.optimizers()
        opt1.zero_grad()
        opt2.zero_grad()
        h1 = self.stage1(x)
        h2 = self.stage_boundary(h1)
        loss = F.cross_entropy(self.stage2(h2), y)
        self.manual_backward(loss)
        if h2.grad is not None:
            h1.backward(gradient=h2.grad)
        opt2.step()
        opt1.step()
        self.log("train/loss", loss.detach())

    def configure_optimizers(self):
        return (torch.optim.SGD(self.stage1.parameters(), lr=self.lr, momentum=0.9),
                torch.optim.SGD(self.stage2.parameters(), lr=self.lr, momentum=0.9))


def main():
    pl.seed_everything(21)
    g = torch.Generator().manual_seed(21)
    x = torch.randn(80, 16, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model = TwoStageClassifier()
    w0 = model.stage1.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"stage1_changed": not torch.equal(w0, model.stage1.net[0].weight)}

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
