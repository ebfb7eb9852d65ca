import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import CausalLMOutput


class MiniLMConfig(PretrainedConfig):
    model_type = "mini-lm"

    def __init__(self, vocab_size=32, hidden=16, layers=2, lora_rank=4, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.layers, self.lora_rank = vocab_size, hidden, layers, lora_rank


class LoRAAdapter(nn.Module):
    def __init__(self, dim, rank):
        super().__init__()
        self.down = nn.Linear(dim, rank, bias=False)
        self.up = nn.Linear(rank, dim, bias=False)
        nn.init.zeros_(self.up.weight)

    def forward(self, x):
        return self.up(self.down(x))


class Block(nn.Module):
    def __init__(self, dim, rank):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.adapter = LoRAAdapter(dim, rank)

    def forward(self, x):
        h = self.norm(x)
        return x + self.mlp(h) + self.adapter(h)


class MiniLM(PreTrainedModel):
    config_class = MiniLMConfig
    supports_gradient_checkpointing = True

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.blocks = nn.ModuleList([Block(config.hidden, config.lora_rank) for _ in range(config.layers)])
        self.lm_head = nn.Linear(config.hidden, config.vocab_size)
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self):
        return self.embed

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None):
        self.gradient_checkpointing = True

    def forward(self, input_ids, labels=None):
        h = self.embed(input_ids)
        for block in self.blocks:
            if self.gradient_checkpointing and self.training:
                h = cp.checkpoint(block, h, use_reentrant=True)
            else:
                h = block(h)
        logits = self.lm_head(h)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten())
        return CausalLMOutput(loss=loss, logits=logits)


def prepare_for_kbit_style_training(model):
    for name, param in model.named_parameters():
        param.requires_grad = "adapter" in name
    model.gradient_checkpointing_enable()
    model.enable_input_require_grads()
    return model


class Sequences(Dataset):
    def __init__(self, n=24, seq=8):
        g = torch.Generator().manual_seed(0)
        start = torch.randint(0, 32, (n, 1), generator=g)
        self.ids = (start + 3 * torch.arange(seq)) % 32

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def main():
    torch.manual_seed(0)
    model = prepare_for_kbit_style_training(MiniLM(MiniLMConfig()))
    up_before = model.blocks[0].adapter.up.weight.detach().clone()
    head_before = model.lm_head.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2829_out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, gradient_checkpointing=True, report_to="none")
    Trainer(model=model, args=args, train_dataset=Sequences()).train()
    facts = {"adapter_changed": not torch.equal(up_before, model.blocks[0].adapter.up.weight),
             "lm_head_frozen": torch.equal(head_before, model.lm_head.weight)}
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
