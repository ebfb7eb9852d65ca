import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CheckpointFunction(torch.autograd.Function):
    """Memory-saving recomputation: forward without a graph, rebuild it in backward."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng, *args):
        ctx.run_function = run_function
        ctx.preserve_rng = preserve_rng
        if preserve_rng:
            ctx.rng_state = torch.get_rng_state()
        ctx.save_for_backward(*args)
        with torch.no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *output_grads):
        inputs = [x.detach().requires_grad_(x.requires_grad) for x in ctx.saved_tensors]
        if ctx.preserve_rng:
            torch.set_rng_state(ctx.rng_state)
        with torch.enable_grad():
            outputs = ctx.run_function(*inputs)
        torch.autograd.backward(outputs, output_grads)
        input_grads = tuple(x.grad for x in inputs)
        return (None,) + input_grads


def checkpoint(fn, *args, preserve_rng=True):
    return CheckpointFunction.apply(fn, preserve_rng, *args)


class DenseLayer(nn.Module):
    def __init__(self, in_ch, growth=4):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_ch)
        self.conv = nn.Conv2d(in_ch, growth, 3, padding=1, bias=False)

    def bottleneck(self, *features):
        return self.conv(F.relu(self.bn(torch.cat(features, 1))))

    def forward(self, features):
        return checkpoint(self.bottleneck, *features)


class DenseNetLite(pl.LightningModule):
    def __init__(self, lr=0.05):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.layers = nn.ModuleList([DenseLayer(8), DenseLayer(12), DenseLayer(16)])
        self.head = nn.Linear(20, 4)
        self.lr = lr

    def forward(self, x):
        features = [self.stem(x)]
        for layer in self.layers:
            features.append(layer(features))
        return self.head(F.adaptive_avg_pool2d(torch.cat(features, 1), 1).flatten(1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9, weight_decay=1e-4)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(31)
    data = TensorDataset(torch.randn(16, 3, 8, 8, generator=g), torch.randint(0, 4, (16,), generator=g))
    model = DenseNetLite()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(data, batch_size=8, shuffle=True))
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
