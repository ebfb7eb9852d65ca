import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import (PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainerCallback,
                          TrainingArguments)


class SlotConfig(PretrainedConfig):
    model_type = "tiny-slot"

    def __init__(self, vocab_size=70, hidden_size=24, num_layers=2, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers


class LoRALinear(nn.Module):
    def __init__(self, base, rank=4, alpha=8):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        self.scaling = alpha / rank

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scaling

    @torch.no_grad()
    def merge(self):
        self.base.weight.data += (self.lora_B @ self.lora_A) * self.scaling


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.attn_q = nn.Linear(d, d)
        self.ffn = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)

    def forward(self, h):
        return self.norm(h + self.ffn(F.gelu(self.attn_q(h))))


class SlotClassifier(PreTrainedModel):
    config_class = SlotConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(Block(config.hidden_size) for _ in range(config.num_layers))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        h = self.embeddings(input_ids)
        for layer in self.layers:
            h = layer(h)
        logits = self.classifier(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def add_lora(model, rank=4):
    model.requires_grad_(False)
    for layer in model.layers:
        layer.attn_q = LoRALinear(layer.attn_q, rank)
        layer.ffn = LoRALinear(layer.ffn, rank)
    for module in model.modules():
        if isinstance(module, LoRALinear):
            module.base.requires_grad_(False)
    model.classifier.requires_grad_(True)
    return model


class AdapterNormLogger(TrainerCallback):
    def __init__(self):
        self.history = []

    def on_step_end(self, args, state, control, model=None, **kwargs):
        logs_norm = float(model.layers[0].attn_q.lora_B.norm().item())
        self.history.append(logs_norm)


def make_dataset(n=48, seq_len=8, vocab=70):
    g = torch.Generator().manual_seed(5)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, vocab, (seq_len,), generator=g)
        rows.append({"input_ids": ids, "labels": int(ids.max()) % 3})
    return rows


def main():
    torch.manual_seed(0)
    model = add_lora(SlotClassifier(SlotConfig()))
    lora = model.layers[0].attn_q
    a_before, b_before = lora.lora_A.detach().clone(), lora.lora_B.detach().clone()
    base_before = lora.base.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_slot", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=1e-2, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset(), callbacks=[AdapterNormLogger()])
    trainer.train()
    base_unchanged = torch.equal(base_before, lora.base.weight)
    expected = base_before + (lora.lora_B @ lora.lora_A).detach() * lora.scaling
    for module in model.modules():
        if isinstance(module, LoRALinear):
            module.merge()
    facts = {
        "lora_B_changed": not torch.equal(b_before, lora.lora_B),
        "lora_A_changed": not torch.equal(a_before, lora.lora_A),
        "base_unchanged_before_merge": base_unchanged,
        "merged_matches_adapter": bool(torch.allclose(lora.base.weight, expected, atol=1e-6)),
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
