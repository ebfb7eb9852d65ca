import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class FakeQuantSTE(torch.autograd.Function):
    """Quantize -> dequantize in the forward pass; straight-through (clipped) gradient in the backward pass."""

    @staticmethod
    def forward(ctx, x, scale, qmax):
        ctx.save_for_backward(x)
        ctx.limit = qmax * scale
        return torch.round(x / scale).clamp(-qmax, qmax) * scale

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        inside = (x.abs() <= ctx.limit).to(grad_output.dtype)
        return grad_output * inside, None, None


class QuantLinear(nn.Linear):
    def __init__(self, in_f, out_f, bits=4):
        super().__init__(in_f, out_f)
        self.qmax = 2 ** (bits - 1) - 1

    def forward(self, x):
        scale = self.weight.detach().abs().max() / self.qmax
        return F.linear(x, FakeQuantSTE.apply(self.weight, scale, self.qmax), self.bias)


class QATConfig(PretrainedConfig):
    model_type = "qat_mlp"

    def __init__(self, in_dim=20, hidden=32, bits=4, **kw):
        super().__init__(**kw)
        self.in_dim, self.hidden, self.bits = in_dim, hidden, bits


class QATClassifier(PreTrainedModel):
    config_class = QATConfig

    def __init__(self, config):
        super().__init__(config)
        self.fc1 = QuantLinear(config.in_dim, config.hidden, config.bits)
        self.fc2 = QuantLinear(config.hidden, config.num_labels, config.bits)

    def forward(self, features, labels=None):
        return SequenceClassifierOutput(logits=self.fc2(F.relu(self.fc1(features))))


class QATTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = F.cross_entropy(outputs.logits, labels)
        return (loss, outputs) if return_outputs else loss


class BlobDataset(Dataset):
    def __init__(self, n=96):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 20, generator=g)
        self.y = (self.x[:, 2] > self.x[:, 3]).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"features": self.x[i], "label": int(self.y[i])}


def main():
    torch.manual_seed(0)
    model = QATClassifier(QATConfig(num_labels=2))
    w1, w2 = model.fc1.weight.detach().clone(), model.fc2.weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    QATTrainer(model=model, args=args, train_dataset=BlobDataset()).train()
    return {"model": model}, {"fc1_weight_changed": not torch.equal(w1, model.fc1.weight),
                              "fc2_weight_changed": not torch.equal(w2, model.fc2.weight)}

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
