import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments


class SpikeFn(torch.autograd.Function):
    """Heaviside spike in forward, rectangular surrogate gradient in backward (STBP)."""

    @staticmethod
    def forward(ctx, membrane, threshold):
        ctx.save_for_backward(membrane)
        ctx.threshold = threshold
        return (membrane >= threshold).to(membrane.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (membrane,) = ctx.saved_tensors
        surrogate = ((membrane - ctx.threshold).abs() < 0.5).to(grad_out.dtype)
        return grad_out * surrogate, None


class SNNConfig(PretrainedConfig):
    model_type = "tiny-snn"

    def __init__(self, n_in=10, hidden=24, n_classes=3, steps=4, decay=0.5, **kw):
        super().__init__(**kw)
        self.n_in, self.hidden, self.n_classes, self.steps, self.decay = n_in, hidden, n_classes, steps, decay


class SpikingClassifier(PreTrainedModel):
    config_class = SNNConfig
    base_model_prefix = ""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.fc1 = nn.Linear(cfg.n_in, cfg.hidden)
        self.fc2 = nn.Linear(cfg.hidden, cfg.n_classes)

    def forward(self, inputs, labels=None):
        cfg = self.config
        mem = torch.zeros(inputs.size(0), cfg.hidden)
        spike = torch.zeros_like(mem)
        out = 0
        for _ in range(cfg.steps):
            mem = mem * cfg.decay * (1 - spike) + self.fc1(inputs)
            spike = SpikeFn.apply(mem, 1.0)
            out = out + self.fc2(spike)
        logits = out / cfg.steps
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return {"loss": loss, "logits": logits}


class WeightQuantizer(TrainerCallback):
    """After every optimizer step, snap the stored weights to an 8-bit grid (deployment format)."""

    def __init__(self, bits=8):
        self.levels = 2 ** (bits - 1) - 1

    def on_optimizer_step(self, args, state, control, model=None, **kwargs):
        with torch.no_grad():
            for layer in (model.fc1, model.fc2):
                scale = layer.weight.abs().max() / self.levels
                layer.weight.copy_(torch.round(layer.weight / scale) * scale)


class SpikeData(torch.utils.data.Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(0)
        self.x = torch.rand(n, 10, generator=g) * 2
        self.y = self.x[:, :3].argmax(-1)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"inputs": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = SpikingClassifier(SNNConfig())
    before = model.fc1.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2536", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to=[])
    Trainer(model=model, args=args, train_dataset=SpikeData(), callbacks=[WeightQuantizer()]).train()
    batch = SpikeData()[0:8]
    model(batch["inputs"], batch["labels"])["loss"].backward()
    changed = not torch.equal(before, model.fc1.weight)
    return {"model": model}, {"fc1_changed": changed}

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
