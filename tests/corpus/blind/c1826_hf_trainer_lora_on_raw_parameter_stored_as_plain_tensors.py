import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import CausalLMOutput, PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class LoRALinear(nn.Module):
    def __init__(self, base, rank=4):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, rank, bias=False)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False)
        nn.init.normal_(self.lora_B.weight, std=0.01)

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x))


class MoEConfig(PretrainedConfig):
    model_type = "tiny-moe"


class TinyMoELM(PreTrainedModel):
    config_class = MoEConfig

    def __init__(self, config):
        super().__init__(config)
        d = config.dim
        self.embed = nn.Embedding(config.vocab_size, d)
        self.router = nn.Linear(d, config.n_experts)
        self.expert_w = nn.Parameter(torch.randn(config.n_experts, d, d) * 0.05)
        self.lm_head = nn.Linear(d, config.vocab_size)

    def expert_weight(self):
        w = self.expert_w
        if hasattr(self, "expert_w_lora_A"):
            w = w + (self.expert_w_lora_B @ self.expert_w_lora_A)
        return w

    def forward(self, input_ids, labels=None):
        x = self.embed(input_ids)
        gates = torch.softmax(self.router(x), dim=-1)
        h = torch.einsum("bte,edk,btd->btk", gates, self.expert_weight(), x)
        logits = self.lm_head(x + F.gelu(h))
        loss = F.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten()) if labels is not None else None
        return CausalLMOutput(loss=loss, logits=logits)


def add_lora(model, rank=4):
    model.requires_grad_(False)
    for name, child in list(model.named_children()):
        if isinstance(child, nn.Linear) and name != "lm_head":
            setattr(model, name, LoRALinear(child, rank))
    module = model
    for name, weight in list(module.named_parameters(recurse=False)):
        setattr(module, name + "_lora_A", torch.randn(rank, weight.size(1)) * 0.01)
        setattr(module, name + "_lora_B", torch.zeros(weight.size(-1), rank))
        getattr(module, name + "_lora_A").requires_grad_()
        getattr(module, name + "_lora_B").requires_grad_()
    return model


class TokenDataset(Dataset):
    def __init__(self, n=32, seq=10, vocab=50):
        self.ids = torch.randint(0, vocab, (n, seq), generator=torch.Generator().manual_seed(0))

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def main():
    torch.manual_seed(0)
    model = add_lora(TinyMoELM(MoEConfig(vocab_size=50, dim=16, n_experts=4)))
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=TokenDataset())
    e0, r0 = model.expert_w_lora_B.detach().clone(), model.router.lora_A.weight.detach().clone()
    trainer.train()
    batch = TokenDataset()[0]
    model(**{k: v[None] for k, v in batch.items()}).loss.backward()
    return {"model": model, "expert_lora_B": model.expert_w_lora_B}, {
        "expert_lora_changed": not torch.equal(e0, model.expert_w_lora_B.detach()),
        "router_lora_changed": not torch.equal(r0, model.router.lora_A.weight),
    }

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
