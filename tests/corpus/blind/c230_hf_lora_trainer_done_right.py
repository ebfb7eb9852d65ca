import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class EncoderConfig(PretrainedConfig):
    model_type = "tiny-encoder"

    def __init__(self, vocab_size=64, hidden_size=32, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size


class TinyEncoderForSequenceClassification(PreTrainedModel):
    config_class = EncoderConfig

    def __init__(self, config):
        super().__init__(config)
        d = config.hidden_size
        self.embed = nn.Embedding(config.vocab_size, d)
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.ffn = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.classifier = nn.Linear(d, config.num_labels)

    def forward(self, input_ids, labels=None):
        h = self.embed(input_ids)
        att = (self.query(h) @ self.key(h).transpose(1, 2) / math.sqrt(h.size(-1))).softmax(-1)
        h = h + att @ self.value(h)
        h = h + self.ffn(h)
        logits = self.classifier(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class LoRALinear(nn.Module):
    def __init__(self, base, r=4, alpha=8):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features) / math.sqrt(base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scaling


def apply_lora(model, target_modules=("query", "value"), r=4):
    # freeze the pretrained weights first, then add the (trainable) adapters
    model.requires_grad_(False)
    for name in target_modules:
        setattr(model, name, LoRALinear(getattr(model, name), r=r))
    model.classifier.requires_grad_(True)
    return model


class GradNormCallback(TrainerCallback):
    """Record which parameters had a gradient when the optimizer stepped."""

    def __init__(self):
        self.with_grad = set()

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        for n, p in model.named_parameters():
            if p.grad is not None and p.grad.abs().sum() > 0:
                self.with_grad.add(n)


def build_dataset(n=32, seq=8):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 64, (n, seq), generator=g)
    return [{"input_ids": ids[i], "labels": int(ids[i, 0] % 3)} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = apply_lora(TinyEncoderForSequenceClassification(EncoderConfig()))
    lora_b0 = model.query.lora_B.detach().clone()
    base0 = model.query.base.weight.detach().clone()
    grads = GradNormCallback()
    args = TrainingArguments(output_dir="lora", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=build_dataset(), callbacks=[grads])
    trainer.train()
    facts = {
        "lora_changed": not torch.equal(lora_b0, model.query.lora_B.detach()),
        "base_frozen": torch.equal(base0, model.query.base.weight.detach()),
        "optimizer_params": sum(len(g["params"]) for g in trainer.optimizer.param_groups),
        "stepped_with_grad": sorted(grads.with_grad),
    }
    return {"model": model}, facts

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
