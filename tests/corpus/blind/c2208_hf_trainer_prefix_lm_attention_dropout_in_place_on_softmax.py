import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import CausalLMOutput


class PrefixLMConfig(PretrainedConfig):
    model_type = "tiny-prefix-lm"

    def __init__(self, vocab_size=40, d_model=32, n_heads=4, n_layers=2, attn_pdrop=0.0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.d_model, self.n_heads, self.n_layers = vocab_size, d_model, n_heads, n_layers
        self.attn_pdrop = attn_pdrop


def scaled_multihead_dot_product_attention(q, k, v, n_heads, attn_bias, dropout_p, training):
    b, s, d = q.shape
    q, k, v = (t.view(b, s, n_heads, d // n_heads).transpose(1, 2) for t in (q, k, v))
    attn_weight = q @ k.transpose(-2, -1) / math.sqrt(d // n_heads) + attn_bias
    attn_weight = torch.softmax(attn_weight, dim=-1)
    if dropout_p:
        attn_weight = F.dropout(attn_weight, p=dropout_p, training=training, inplace=True)
    out = attn_weight @ v
    return out.transpose(1, 2).reshape(b, s, d)


class PrefixLMBlock(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.norm_1 = nn.LayerNorm(config.d_model)
        self.Wqkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.out_proj = nn.Linear(config.d_model, config.d_model)
        self.norm_2 = nn.LayerNorm(config.d_model)
        self.ffn = nn.Sequential(nn.Linear(config.d_model, 4 * config.d_model), nn.GELU(),
                                 nn.Linear(4 * config.d_model, config.d_model))
        self.config = config

    def forward(self, x, attn_bias):
        q, k, v = self.Wqkv(self.norm_1(x)).chunk(3, dim=-1)
        a = scaled_multihead_dot_product_attention(q, k, v, self.config.n_heads, attn_bias,
                                                   self.config.attn_pdrop, self.training)
        x = x + self.out_proj(a)
        return x + self.ffn(self.norm_2(x))


class PrefixLMForCausalLM(PreTrainedModel):
    config_class = PrefixLMConfig

    def __init__(self, config):
        super().__init__(config)
        self.wte = nn.Embedding(config.vocab_size, config.d_model)
        self.blocks = nn.ModuleList([PrefixLMBlock(config) for _ in range(config.n_layers)])
        self.norm_f = nn.LayerNorm(config.d_model)
        self.post_init()

    def _attn_bias(self, prefix_mask):
        s = prefix_mask.size(1)
        causal = torch.tril(torch.ones(s, s, dtype=torch.bool))
        allowed = causal[None] | (prefix_mask[:, None, :].bool() & prefix_mask[:, :, None].bool())
        return torch.zeros(allowed.shape).masked_fill(~allowed, -1e4)[:, None]

    def forward(self, input_ids, prefix_mask, labels=None):
        x = self.wte(input_ids)
        bias = self._attn_bias(prefix_mask)
        for block in self.blocks:
            x = block(x, bias)
        logits = self.norm_f(x) @ self.wte.weight.t()
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1), ignore_index=-100)
        return CausalLMOutput(loss=loss, logits=logits)


def make_dataset(n=16, seq=8, prefix=4):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 40, (n, seq), generator=g)
    prefix_mask = torch.zeros(seq, dtype=torch.long)
    prefix_mask[:prefix] = 1
    rows = []
    for i in range(n):
        labels = ids[i].clone()
        labels[:prefix] = -100
        rows.append({"input_ids": ids[i], "prefix_mask": prefix_mask, "label_ids": labels})
    return rows


def main():
    torch.manual_seed(0)
    config = PrefixLMConfig(attn_pdrop=0.1)
    model = PrefixLMForCausalLM(config)
    args = TrainingArguments(output_dir="/tmp/c2208_out", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none")
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
