import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class MiniBertConfig(PretrainedConfig):
    model_type = "mini-bert"

    def __init__(self, vocab_size=40, hidden=16, heads=2, num_labels=2, pad_token_id=0, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden, self.heads, self.pad_token_id = vocab_size, hidden, heads, pad_token_id


class SelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.heads, self.head_dim = config.heads, config.hidden // config.heads
        self.qkv = nn.Linear(config.hidden, 3 * config.hidden)
        self.o_proj = nn.Linear(config.hidden, config.hidden)
        self.norm = nn.LayerNorm(config.hidden)

    def forward(self, hidden, attention_mask):
        b, t, d = hidden.shape
        q, k, v = self.qkv(hidden).view(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)
        scores.masked_fill_(attention_mask[:, None, None, :] == 0, float("-inf"))
        ctx = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        out = self.o_proj(ctx)
        out += hidden
        return self.norm(out)


class MiniBertForSequenceClassification(PreTrainedModel):
    config_class = MiniBertConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden, padding_idx=config.pad_token_id)
        self.layers = nn.ModuleList([SelfAttention(config) for _ in range(2)])
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, attention_mask, labels=None):
        h = self.embeddings(input_ids)
        for layer in self.layers:
            h = layer(h, attention_mask)
        logits = self.classifier(h[:, 0])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=40):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        length = int(torch.randint(4, 9, (1,), generator=g))
        ids = torch.zeros(8, dtype=torch.long)
        ids[:length] = torch.randint(1, 40, (length,), generator=g)
        rows.append({"input_ids": ids, "attention_mask": (ids != 0).long(), "label": int(ids[1] > 20)})
    return rows




def main():
    torch.manual_seed(0)
    model = MiniBertForSequenceClassification(MiniBertConfig())
    args = TrainingArguments(output_dir="tmp_minibert", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=3e-3, report_to="none", seed=0)
    qkv_before = model.layers[0].qkv.weight.detach().clone()
    emb_before = model.embeddings.weight.detach().clone()
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    facts = {"attention_changed": not torch.equal(qkv_before, model.layers[0].qkv.weight),
             "embeddings_changed": not torch.equal(emb_before, model.embeddings.weight)}
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
