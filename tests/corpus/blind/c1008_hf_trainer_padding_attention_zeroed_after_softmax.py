import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class TinyBertConfig(PretrainedConfig):
    model_type = "tiny-bert"

    def __init__(self, vocab_size=50, hidden_size=16, num_heads=2, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_heads = vocab_size, hidden_size, num_heads


class SelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.h, self.d = config.num_heads, config.hidden_size // config.num_heads
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.out = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, x, attention_mask):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.h, self.d).permute(2, 0, 3, 1, 4)
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.d), dim=-1)
        probs.masked_fill_(attention_mask[:, None, None, :] == 0, 0.0)
        ctx = (probs @ v).transpose(1, 2).reshape(b, t, -1)
        return x + self.out(ctx)


class TinyBertForSequenceClassification(PreTrainedModel):
    config_class = TinyBertConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=0)
        self.attention = SelfAttention(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None):
        h = self.attention(self.embeddings(input_ids), attention_mask)
        logits = self.classifier(h[:, 0])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=32, seq_len=8):
    g = torch.Generator().manual_seed(2)
    rows = []
    for _ in range(n):
        length = int(torch.randint(3, seq_len + 1, (1,), generator=g))
        ids = torch.zeros(seq_len, dtype=torch.long)
        ids[:length] = torch.randint(1, 50, (length,), generator=g)
        rows.append({"input_ids": ids, "attention_mask": (ids != 0).long(), "label": int(ids[0]) % 3})
    return rows


def main():
    torch.manual_seed(0)
    model = TinyBertForSequenceClassification(TinyBertConfig())
    args = TrainingArguments(output_dir="tmp_tinybert", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=1e-3, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
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
