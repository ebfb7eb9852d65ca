import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class IntentConfig(PretrainedConfig):
    model_type = "tiny-intent"

    def __init__(self, vocab_size=50, hidden=32, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden = vocab_size, hidden


class AttentionBlock(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.q_proj, self.k_proj, self.v_proj = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.ff = nn.Sequential(nn.Linear(h, 2 * h), nn.GELU(), nn.Linear(2 * h, h))
        self.norm1, self.norm2 = nn.LayerNorm(h), nn.LayerNorm(h)

    def forward(self, x, mask):
        att = self.q_proj(x) @ self.k_proj(x).transpose(1, 2) / x.shape[-1] ** 0.5
        att = att.masked_fill(mask[:, None, :] == 0, -1e4).softmax(-1)
        x = self.norm1(x + att @ self.v_proj(x))
        return self.norm2(x + self.ff(x))


class IntentClassifier(PreTrainedModel):
    config_class = IntentConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.block = AttentionBlock(config.hidden)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, attention_mask, labels=None):
        h = self.block(self.embed(input_ids), attention_mask)
        pooled = (h * attention_mask[..., None]).sum(1) / attention_mask.sum(1, keepdim=True)
        logits = self.classifier(pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class LoRALinear(nn.Module):
    def __init__(self, base, r=4, alpha=8):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features) * 0.02)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.T @ self.lora_B.T) * self.scaling


class ModulesToSaveWrapper(nn.Module):
    """Keeps the pretrained head for reference and trains a copy of it (as PEFT's modules_to_save)."""

    def __init__(self, module):
        super().__init__()
        self.original_module = module
        self.modules_to_save = copy.deepcopy(module)
        self.original_module.requires_grad_(False)
        self.modules_to_save.requires_grad_(True)

    def forward(self, *args):
        return self.modules_to_save(*args)


def freeze_non_lora(model):
    for name, param in model.named_parameters():
        param.requires_grad = "lora_" in name


def apply_lora(model, target_modules=("q_proj", "v_proj"), modules_to_save=("classifier",)):
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if child_name in target_modules:
                setattr(parent, child_name, LoRALinear(child))
            elif child_name in modules_to_save:
                setattr(parent, child_name, ModulesToSaveWrapper(child))
    freeze_non_lora(model)
    return model


def make_dataset(n=48, seq=10, vocab=50):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, vocab, (n, seq), generator=g)
    labels = ids[:, 0] % 3
    return [{"input_ids": ids[i], "attention_mask": torch.ones(seq, dtype=torch.long), "label": int(labels[i])}
            for i in range(n)]


def main():
    torch.manual_seed(0)
    model = apply_lora(IntentClassifier(IntentConfig()))
    head0 = model.classifier.modules_to_save.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/intent-lora", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-2, report_to="none", max_grad_norm=0.0)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    trainer.train()
    # one more backward after training, to look at what the head receives
    batch = trainer.data_collator(make_dataset()[:8])
    model(**batch).loss.backward()
    return ({"model": model},
            {"head_changed": not torch.equal(head0, model.classifier.modules_to_save.weight.detach())})

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
