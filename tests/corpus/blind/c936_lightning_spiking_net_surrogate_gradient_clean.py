import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class FastSigmoidSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, mem_shift, slope):
        ctx.save_for_backward(mem_shift)
        ctx.slope = slope
        return (mem_shift > 0).float()

    @staticmethod
    def backward(ctx, grad_output):
        (mem_shift,) = ctx.saved_tensors
        surrogate = 1.0 / (ctx.slope * mem_shift.abs() + 1.0) ** 2
        return grad_output * surrogate, None


class LIFLayer(nn.Module):
    def __init__(self, d_in, d_out, beta=0.9, threshold=1.0, slope=5.0):
        super().__init__()
        self.fc = nn.Linear(d_in, d_out)
        self.beta, self.threshold, self.slope = beta, threshold, slope

    def forward(self, x_seq):
        mem = torch.zeros(x_seq.shape[1], self.fc.out_features)
        spikes = []
        for x in x_seq.unbind(0):
            mem = self.beta * mem + self.fc(x)
            spk = FastSigmoidSpike.apply(mem - self.threshold, self.slope)
            reset = spk.detach() * self.threshold
            mem = mem - reset
            spikes.append(spk)
        return torch.stack(spikes)


class SpikingClassifier(pl.LightningModule):
    def __init__(self, d_in=20, hidden=32, n_classes=4, steps=10):
        super().__init__()
        self.lif1 = LIFLayer(d_in, hidden)
        self.lif2 = LIFLayer(hidden, hidden)
        self.readout = nn.Linear(hidden, n_classes)
        self.steps = steps

    def forward(self, x):
        x_seq = (torch.rand(self.steps, *x.shape) < torch.sigmoid(x)).float()
        return self.readout(self.lif2(self.lif1(x_seq)).sum(0))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=2e-3)


def make_loader(n=64):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 4, (n,), generator=g)
    x = torch.randn(n, 20, generator=g) + F.one_hot(y, 20).float() * 3
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = SpikingClassifier()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
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
