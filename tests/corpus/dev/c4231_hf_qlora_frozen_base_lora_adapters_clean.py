import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import CausalLMOutput


class TinyLlamaConfig(PretrainedConfig):
    model_type = "tiny_llama"

    def __init__(self, vocab_size=32, hidden_size=16, n_layers=2, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size, self.n_layers = vocab_size, hidden_size, n_layers


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.q_proj, self.v_proj, self.o_proj = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.SiLU(), nn.Linear(2 * d, d))

    def forward(self, x):
        h = self.norm(x)
        att = torch.softmax(self.q_proj(h) @ h.transpose(1, 2) / math.sqrt(h.size(-1)), -1)
        x = x + self.o_proj(att @ self.v_proj(h))
        return x + self.mlp(x)


class TinyLlamaForCausalLM(PreTrainedModel):
    config_class = TinyLlamaConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList([Block(config.hidden_size) for _ in range(config.n_layers)])
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.embed_tokens

    def forward(self, input_ids=None, labels=None):
        x = self.embed_tokens(input_ids)
        for layer in self.layers:
            x = layer(x)
        logits = self.lm_head(x)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1))
        return CausalLMOutput(loss=loss, logits=logits)


class LoRALinear(nn.Module):
    def __init__(self, base, r=4, alpha=8):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


def fake_quantize_(linear, bits=4):
    with torch.no_grad():
        scale = linear.weight.abs().amax(1, keepdim=True) / (2 ** (bits - 1) - 1)
        linear.weight.copy_(torch.round(linear.weight / scale) * scale)


def prepare_qlora(model, targets=("q_proj", "v_proj"), r=4):
    for p in model.parameters():
        p.requires_grad = False
    for layer in model.layers:
        for name in targets:
            base = getattr(layer, name)
            fake_quantize_(base)
            setattr(layer, name, LoRALinear(base, r=r))
    model.enable_input_require_grads()
    return model


def instruction_rows(n=24, seq=8, vocab=32):
    g = torch.Generator().manual_seed(0)
    starts = torch.randint(0, vocab, (n, 1), generator=g)
    ids = (starts + 3 * torch.arange(seq)) % vocab
    return [{"input_ids": row, "labels": row.clone()} for row in ids]


def main():
    torch.manual_seed(0)
    model = prepare_qlora(TinyLlamaForCausalLM(TinyLlamaConfig()))
    base0 = model.layers[0].q_proj.base.weight.detach().clone()
    loraB0 = model.layers[0].q_proj.lora_B.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/qlora", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, lr_scheduler_type="constant", report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=instruction_rows())
    out = trainer.train()
    return {"model": model}, {
        "lora_B_changed": not torch.equal(loraB0, model.layers[0].q_proj.lora_B.weight),
        "quantized_base_unchanged": torch.equal(base0, model.layers[0].q_proj.base.weight),
        "trainable_params": model.num_parameters(only_trainable=True),
        "loss_logged": out.training_loss > 0,
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
