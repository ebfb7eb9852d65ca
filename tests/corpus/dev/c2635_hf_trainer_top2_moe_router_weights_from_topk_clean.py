from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class MoEConfig(PretrainedConfig):
    model_type = "tiny-moe"

    def __init__(self, vocab_size=32, hidden_size=16, num_experts=4, top_k=2, aux_loss_coef=0.01, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.num_experts, self.top_k, self.aux_loss_coef = num_experts, top_k, aux_loss_coef


@dataclass
class MoECausalLMOutput(ModelOutput):
    loss: Any = None
    aux_loss: Any = None
    logits: Any = None


class SparseMoeBlock(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.top_k, self.num_experts = config.top_k, config.num_experts
        self.gate = nn.Linear(config.hidden_size, config.num_experts, bias=False)
        self.experts = nn.ModuleList(nn.Sequential(nn.Linear(config.hidden_size, 32), nn.SiLU(),
                                                   nn.Linear(32, config.hidden_size))
                                     for _ in range(config.num_experts))

    def forward(self, hidden):
        b, t, d = hidden.shape
        x = hidden.reshape(-1, d)
        router_logits = self.gate(x)
        routing_weights = F.softmax(router_logits, dim=-1)
        topk_weights, topk_idx = torch.topk(routing_weights, self.top_k, dim=-1)
        topk_weights = topk_weights / topk_weights.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            token_idx, slot = torch.where(topk_idx == e)
            if token_idx.numel() == 0:
                continue
            out.index_add_(0, token_idx, expert(x[token_idx]) * topk_weights[token_idx, slot, None])
        tokens_per_expert = F.one_hot(topk_idx, self.num_experts).float().sum(1).mean(0)
        aux_loss = self.num_experts * (tokens_per_expert.detach() * routing_weights.mean(0)).sum()
        return out.reshape(b, t, d), aux_loss


class TinyMoEForCausalLM(PreTrainedModel):
    config_class = MoEConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size)
        self.moe = SparseMoeBlock(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.embed_tokens(input_ids)
        moe_out, aux_loss = self.moe(self.norm(h))
        logits = self.lm_head(h + moe_out)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))
            loss = loss + self.config.aux_loss_coef * aux_loss
        return MoECausalLMOutput(loss=loss, aux_loss=aux_loss.detach(), logits=logits)


class TokenDataset(Dataset):
    def __init__(self, n=16, seq_len=8):
        self.ids = torch.randint(0, 32, (n, seq_len), generator=torch.Generator().manual_seed(0))

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def main():
    model = TinyMoEForCausalLM(MoEConfig())
    gate_before = model.moe.gate.weight.detach().clone()
    expert_before = model.moe.experts[0][0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2635", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=5e-3, warmup_ratio=0.0, report_to="none")
    Trainer(model=model, args=args, train_dataset=TokenDataset()).train()
    facts = {"router_changed": not torch.equal(gate_before, model.moe.gate.weight),
             "expert_changed": not torch.equal(expert_before, model.moe.experts[0][0].weight)}
    return {}, facts

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
