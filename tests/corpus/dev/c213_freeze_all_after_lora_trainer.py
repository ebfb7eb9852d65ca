import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import CausalLMOutput


class MiniGPTConfig(PretrainedConfig):
    model_type = "mini-gpt"

    def __init__(self, vocab_size=64, n_embd=32, n_layer=2, block_size=16, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.n_embd, self.n_layer, self.block_size = vocab_size, n_embd, n_layer, block_size


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ln = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)

    def forward(self, x):
        q, k, v = self.c_attn(self.ln(x)).chunk(3, dim=-1)
        n = x.size(1)
        mask = torch.ones(n, n, dtype=torch.bool).tril()
        att = (q @ k.transpose(1, 2) / math.sqrt(q.size(-1))).masked_fill(~mask, float("-inf")).softmax(-1)
        return x + self.c_proj(att @ v)


class MiniGPT(PreTrainedModel):
    config_class = MiniGPTConfig

    def __init__(self, config):
        super().__init__(config)
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.h = nn.ModuleList(Block(config.n_embd) for _ in range(config.n_layer))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

    def forward(self, input_ids, labels=None):
        x = self.wte(input_ids)
        for block in self.h:
            x = block(x)
        logits = self.lm_head(x)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1))
        return CausalLMOutput(loss=loss, logits=logits)


class LoRAAdapter(nn.Module):
    def __init__(self, base, r=4, alpha=16):
        super().__init__()
        self.base = base
        self.lora_down = nn.Linear(base.in_features, r, bias=False)
        self.lora_up = nn.Linear(r, base.out_features, bias=False)
        nn.init.zeros_(self.lora_up.weight)
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_up(self.lora_down(x)) * self.scale


def add_lora_adapters(model, targets=("c_attn",), r=4):
    for block in model.h:
        for name in targets:
            setattr(block, name, LoRAAdapter(getattr(block, name), r=r))
    return model


def prepare_for_peft(model):
    model = add_lora_adapters(model)
    # keep the pretrained weights fixed
    model.requires_grad_(False)
    return model


def build_dataset(n=24, seq=12):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 64, (n, seq), generator=g)
    return [{"input_ids": ids[i], "labels": ids[i]} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = prepare_for_peft(MiniGPT(MiniGPTConfig()))
    args = TrainingArguments(output_dir="lora-out", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=2e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=build_dataset()).train()
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
