import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, SequenceClassifierOutput


class LSQQuantize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, step, qmin, qmax):
        v = x / step
        ctx.save_for_backward(v, step)
        ctx.qmin, ctx.qmax = qmin, qmax
        return torch.round(v.clamp(qmin, qmax)) * step

    @staticmethod
    def backward(ctx, grad_out):
        v, step = ctx.saved_tensors
        inside = (v >= ctx.qmin) & (v <= ctx.qmax)
        grad_x = grad_out * inside
        grad_v = torch.where(inside, torch.round(v) - v, v.clamp(ctx.qmin, ctx.qmax))
        scale = 1.0 / (v.numel() * ctx.qmax) ** 0.5
        grad_step = (grad_out * grad_v).sum().reshape(step.shape) * scale
        return grad_x, grad_step, None, None


class LSQLinear(nn.Linear):
    def __init__(self, in_f, out_f, bits=4):
        super().__init__(in_f, out_f)
        self.qmax = 2 ** (bits - 1) - 1
        self.w_step = nn.Parameter(2 * self.weight.detach().abs().mean() / self.qmax ** 0.5)
        self.a_step = nn.Parameter(torch.tensor(0.1))

    def forward(self, x):
        w = LSQQuantize.apply(self.weight, self.w_step, -self.qmax - 1, self.qmax)
        x = LSQQuantize.apply(x, self.a_step, -self.qmax - 1, self.qmax)
        return F.linear(x, w, self.bias)


class QConfig(PretrainedConfig):
    model_type = "lsq-bow"

    def __init__(self, vocab_size=120, hidden=32, num_labels=3, bits=4, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden, self.bits = vocab_size, hidden, bits


class QuantBowClassifier(PreTrainedModel):
    config_class = QConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.EmbeddingBag(config.vocab_size, config.hidden)
        self.fc1 = LSQLinear(config.hidden, config.hidden, config.bits)
        self.fc2 = LSQLinear(config.hidden, config.num_labels, config.bits)
        self.post_init()

    def forward(self, input_ids, labels=None):
        logits = self.fc2(F.relu(self.fc1(self.embed(input_ids))))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class IntentDataset(Dataset):
    def __init__(self, n=48, length=10, vocab=120, classes=3):
        g = torch.Generator().manual_seed(0)
        self.labels = torch.randint(0, classes, (n,), generator=g)
        self.ids = (torch.randint(0, 40, (n, length), generator=g) + 40 * self.labels[:, None]) % vocab

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def main():
    config = QConfig()
    model = QuantBowClassifier(config)
    w0 = model.fc1.weight.detach().clone()
    s0 = model.fc1.w_step.detach().clone()
    args = TrainingArguments(output_dir="/tmp/lsq-intent", per_device_train_batch_size=8, num_train_epochs=3,
                             learning_rate=5e-3, max_grad_norm=1.0, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=IntentDataset())
    trainer.train()
    return {"model": model}, {
        "weights_changed": not torch.equal(w0, model.fc1.weight),
        "step_size_changed": not torch.equal(s0, model.fc1.w_step),
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
