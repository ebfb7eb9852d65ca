import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class TinyLMConfig(PretrainedConfig):
    model_type = "tinylm"

    def __init__(self, vocab_size=64, hidden=32, layers=2, heads=4, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.layers, self.heads = vocab_size, hidden, layers, heads


class LoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, r=4, alpha=8):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features) / math.sqrt(base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scale


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln = nn.LayerNorm(cfg.hidden)
        self.attn = nn.MultiheadAttention(cfg.hidden, cfg.heads, batch_first=True)
        self.q_proj = nn.Linear(cfg.hidden, cfg.hidden)
        self.mlp = nn.Sequential(nn.Linear(cfg.hidden, 2 * cfg.hidden), nn.GELU(), nn.Linear(2 * cfg.hidden, cfg.hidden))

    def forward(self, h):
        x = self.ln(h)
        q = self.q_proj(x)
        a, _ = self.attn(q, x, x, need_weights=False)
        h = h + a
        return h + self.mlp(self.ln(h))


class TinyLM(PreTrainedModel):
    config_class = TinyLMConfig
    base_model_prefix = ""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.embed = nn.Embedding(cfg.vocab_size, cfg.hidden)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
        self.lm_head = nn.Linear(cfg.hidden, cfg.vocab_size, bias=False)
        self.gradient_checkpointing = False

    def get_input_embeddings(self):
        return self.embed

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None):
        self.gradient_checkpointing = True

    def forward(self, input_ids, labels=None):
        h = self.embed(input_ids)
        for blk in self.blocks:
            if self.gradient_checkpointing and self.training:
                h = checkpoint(blk, h, use_reentrant=True)
            else:
                h = blk(h)
        logits = self.lm_head(h)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1))
        return {"loss": loss, "logits": logits}


def add_lora_adapters(model, r=4):
    for p in model.parameters():
        p.requires_grad_(False)
    for blk in model.blocks:
        blk.q_proj = LoRALinear(blk.q_proj, r=r)
    return model


class LMDataset(torch.utils.data.Dataset):
    def __init__(self, n=16, seq=12, vocab=64):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, vocab, (n, seq), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def main():
    torch.manual_seed(0)
    model = add_lora_adapters(TinyLM(TinyLMConfig()))
    model.gradient_checkpointing_enable()
    args = TrainingArguments(output_dir="/tmp/c2503", per_device_train_batch_size=4, max_steps=2,
                             learning_rate=1e-3, report_to=[])
    trainer = Trainer(model=model, args=args, train_dataset=LMDataset())
    trainer.train()
    return {"blocks": model.blocks}

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
