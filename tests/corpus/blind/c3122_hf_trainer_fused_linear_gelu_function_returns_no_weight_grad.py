import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class FusedLinearGELU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        pre = x @ weight.t() + bias
        ctx.save_for_backward(x, weight, pre)
        return F.gelu(pre)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, pre = ctx.saved_tensors
        cdf = 0.5 * (1.0 + torch.erf(pre / math.sqrt(2.0)))
        pdf = torch.exp(-0.5 * pre ** 2) / math.sqrt(2 * math.pi)
        grad_pre = grad_out * (cdf + pre * pdf)
        grad_x = grad_pre @ weight
        return grad_x, None, None


class FusedFFN(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc_in = nn.Linear(dim, hidden)
        self.fc_out = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc_out(FusedLinearGELU.apply(x, self.fc_in.weight, self.fc_in.bias))


class MlpMixerConfig(PretrainedConfig):
    model_type = "fused-mlp-classifier"

    def __init__(self, in_dim=12, dim=16, depth=2, num_labels=3, **kwargs):
        super().__init__(**kwargs)
        self.in_dim, self.dim, self.depth, self.num_labels = in_dim, dim, depth, num_labels


class FusedMlpClassifier(PreTrainedModel):
    config_class = MlpMixerConfig

    def __init__(self, config):
        super().__init__(config)
        self.stem = nn.Linear(config.in_dim, config.dim)
        self.blocks = nn.ModuleList([FusedFFN(config.dim, 2 * config.dim) for _ in range(config.depth)])
        self.norms = nn.ModuleList([nn.LayerNorm(config.dim) for _ in range(config.depth)])
        self.classifier = nn.Linear(config.dim, config.num_labels)
        self.post_init()

    def forward(self, features, labels=None):
        h = self.stem(features)
        for norm, block in zip(self.norms, self.blocks):
            h = h + block(norm(h))
        logits = self.classifier(h)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class TabDataset(Dataset):
    def __init__(self, n=32):
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.randn(n, 12, generator=g), torch.randint(0, 3, (n,), generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"features": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = FusedMlpClassifier(MlpMixerConfig())
    w0, c0 = model.blocks[0].fc_in.weight.detach().clone(), model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/fused_mlp", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=TabDataset())
    trainer.train()
    b = TabDataset()[0]
    model(b["features"][None], labels=b["labels"][None]).loss.backward()
    g = model.blocks[0].fc_in.weight.grad
    facts = {"ffn_in_changed": not torch.equal(w0, model.blocks[0].fc_in.weight),
             "ffn_in_grad_after_check": None if g is None else float(g.abs().sum() > 0),
             "classifier_changed": not torch.equal(c0, model.classifier.weight)}
    return {"classifier": model.classifier}, facts

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
