import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class DocConfig(PretrainedConfig):
    model_type = "tiny-doc-encoder"

    def __init__(self, vocab_size=64, hidden_size=24, num_heads=2, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_heads = vocab_size, hidden_size, num_heads


class SelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, h, attention_mask):
        b, t, d = h.shape
        q, k, v = self.qkv(h).view(b, t, 3, self.heads, self.dh).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dh)
        pad = attention_mask[:, None, None, :] == 0
        attn_probs = F.softmax(scores.masked_fill(pad, -1e4), dim=-1)
        attn_probs.masked_fill_(pad, 0.0)
        ctx = (attn_probs @ v).transpose(1, 2).reshape(b, t, d)
        return self.out(ctx)


class DocClassifier(PreTrainedModel):
    config_class = DocConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.attn = SelfAttention(config.hidden_size, config.num_heads)
        self.norm = nn.LayerNorm(config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None):
        h = self.embed(input_ids)
        h = self.norm(h + self.attn(h, attention_mask))
        logits = self.classifier(h[:, 0])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_docs(n=40, length=12):
    g = torch.Generator().manual_seed(3)
    out = []
    for i in range(n):
        real = int(torch.randint(5, length + 1, (1,), generator=g))
        ids = torch.zeros(length, dtype=torch.long)
        ids[:real] = torch.randint(1, 64, (real,), generator=g)
        mask = (ids != 0).long()
        out.append({"input_ids": ids, "attention_mask": mask, "labels": int(ids[1] % 3)})
    return out


def main():
    torch.manual_seed(0)
    model = DocClassifier(DocConfig())
    args = TrainingArguments(output_dir="tmp_docs", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=3e-3, warmup_ratio=0.1, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_docs()).train()
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
