import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FastSigmoidSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, mem):
        ctx.save_for_backward(mem)
        return (mem > 0).float()

    @staticmethod
    def backward(ctx, grad_out):
        (mem,) = ctx.saved_tensors
        return grad_out / (1.0 + 25.0 * mem.abs()) ** 2


class Leaky(nn.Module):
    """LIF neuron that keeps its membrane potential between calls (init_hidden style)."""

    def __init__(self, beta=0.9, threshold=1.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold
        self.mem = None

    def reset(self):
        self.mem = None

    def forward(self, x):
        if self.mem is None:
            self.mem = torch.zeros_like(x)
        self.mem = self.beta * self.mem + x
        spk = FastSigmoidSpike.apply(self.mem - self.threshold)
        self.mem = self.mem - spk * self.threshold
        return spk


class SpikingCNN(pl.LightningModule):
    def __init__(self, num_steps=5):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.lif1 = Leaky()
        self.fc = nn.Linear(8 * 4 * 4, 10)
        self.lif2 = Leaky()
        self.num_steps = num_steps

    def forward(self, x):
        spk_rec, mem_rec = [], []
        for _ in range(self.num_steps):
            s1 = self.lif1(F.max_pool2d(self.conv(x), 2))
            s2 = self.lif2(self.fc(s1.flatten(1)))
            spk_rec.append(s2)
            mem_rec.append(self.lif2.mem)
        return torch.stack(spk_rec), torch.stack(mem_rec)

    def training_step(self, batch, batch_idx):
        images, labels = batch
        spk_rec, _ = self(images)
        return F.cross_entropy(spk_rec.sum(0), labels)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=2e-3)


def main():
    pl.seed_everything(0)
    images, labels = torch.rand(32, 1, 8, 8) * 3, torch.randint(0, 10, (32,))
    loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True)
    model = SpikingCNN()
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
