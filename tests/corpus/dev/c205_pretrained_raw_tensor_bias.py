import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class RelPosConfig(PretrainedConfig):
    model_type = "relpos-encoder"

    def __init__(self, vocab_size=64, hidden_size=32, num_attention_heads=4, max_len=12, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_attention_heads = num_attention_heads
        self.max_len = max_len


class RelPosSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.h = config.num_attention_heads
        self.d = config.hidden_size // self.h
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.out = nn.Linear(config.hidden_size, config.hidden_size)
        # learned relative-position bias, one scalar per head and (query, key) pair
        self.rel_bias = torch.zeros(self.h, config.max_len, config.max_len, requires_grad=True)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.h, self.d).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d) + self.rel_bias[:, :n, :n]
        ctx = scores.softmax(-1) @ v
        return self.out(ctx.transpose(1, 2).reshape(b, n, c))


class RelPosForSequenceClassification(PreTrainedModel):
    config_class = RelPosConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.attn = RelPosSelfAttention(config)
        self.norm = nn.LayerNorm(config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)

    def forward(self, input_ids, labels=None):
        h = self.embed(input_ids)
        h = self.norm(h + self.attn(h))
        logits = self.classifier(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def build_dataset(n=32, seq=12):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 64, (n, seq), generator=g)
    labels = (ids[:, 0] > ids[:, -1]).long()
    return [{"input_ids": ids[i], "labels": labels[i]} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = RelPosForSequenceClassification(RelPosConfig())
    bias0 = model.attn.rel_bias.detach().clone()
    qkv0 = model.attn.qkv.weight.detach().clone()
    args = TrainingArguments(output_dir="out", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=build_dataset())
    trainer.train()
    n_opt = sum(len(g["params"]) for g in trainer.optimizer.param_groups)
    facts = {
        "rel_bias_changed": not torch.equal(bias0, model.attn.rel_bias.detach()),
        "qkv_changed": not torch.equal(qkv0, model.attn.qkv.weight.detach()),
        "rel_bias_in_state_dict": "attn.rel_bias" in model.state_dict(),
        "optimizer_params": n_opt,
    }
    return {"model": model, "rel_bias": model.attn.rel_bias}, facts

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
