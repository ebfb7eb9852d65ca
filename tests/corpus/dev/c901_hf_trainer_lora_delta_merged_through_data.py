import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class IntentConfig(PretrainedConfig):
    model_type = "tiny-intent"

    def __init__(self, vocab_size=80, hidden_size=32, num_layers=2, num_labels=4, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers


class FeedForwardBlock(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.up = nn.Linear(d, 2 * d)
        self.down = nn.Linear(2 * d, d)
        self.norm = nn.LayerNorm(d)

    def forward(self, h):
        return self.norm(h + self.down(F.gelu(self.up(h))))


class TinyIntentClassifier(PreTrainedModel):
    config_class = IntentConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=0)
        self.layers = nn.ModuleList(FeedForwardBlock(config.hidden_size) for _ in range(config.num_layers))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None):
        h = self.embeddings(input_ids)
        for layer in self.layers:
            h = layer(h)
        mask = attention_mask.unsqueeze(-1).float()
        logits = self.classifier((h * mask).sum(1) / mask.sum(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class LoRALinear(nn.Module):
    """Frozen base projection plus a trainable low-rank update, merged into one matmul."""

    def __init__(self, base, rank=4, alpha=8):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        self.lora_B = nn.Parameter(torch.randn(base.out_features, rank) * 0.01)
        self.scaling = alpha / rank

    def merged_weight(self):
        delta = (self.lora_B @ self.lora_A).data * self.scaling
        return self.base.weight + delta

    def forward(self, x):
        return F.linear(x, self.merged_weight(), self.base.bias)


def inject_lora(model, rank=4):
    for p in model.parameters():
        p.requires_grad = False
    for layer in model.layers:
        layer.up = LoRALinear(layer.up, rank)
        layer.down = LoRALinear(layer.down, rank)
    model.classifier.requires_grad_(True)
    return model


def make_dataset(n=48, seq_len=8, vocab=80):
    g = torch.Generator().manual_seed(1)
    rows = []
    for _ in range(n):
        ids = torch.randint(1, vocab, (seq_len,), generator=g)
        rows.append({"input_ids": ids, "attention_mask": torch.ones(seq_len, dtype=torch.long),
                     "labels": int(ids[0]) % 4})
    return rows


def main():
    torch.manual_seed(0)
    model = inject_lora(TinyIntentClassifier(IntentConfig()))
    args = TrainingArguments(output_dir="tmp_lora", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=1e-2, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    b_before = model.layers[0].up.lora_B.detach().clone()
    a_before = model.layers[1].down.lora_A.detach().clone()
    head_before = model.classifier.weight.detach().clone()
    trainer.train()
    in_opt = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    facts = {
        "lora_B_changed": not torch.equal(b_before, model.layers[0].up.lora_B),
        "lora_A_changed": not torch.equal(a_before, model.layers[1].down.lora_A),
        "classifier_changed": not torch.equal(head_before, model.classifier.weight),
        "lora_in_optimizer": id(model.layers[0].up.lora_B) in in_opt,
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
