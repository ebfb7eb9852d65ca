import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


LORA_CONFIG = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ("q_proj", "v_proj"),
               "trainable": ("classifier", "lora_")}


class TinyBertConfig(PretrainedConfig):
    model_type = "tiny-bert"

    def __init__(self, vocab_size=40, hidden=32, heads=4, layers=2, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden, self.heads, self.layers = vocab_size, hidden, heads, layers


class SelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.h = heads
        self.q_proj, self.k_proj = nn.Linear(d, d), nn.Linear(d, d)
        self.v_proj, self.o_proj = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = (p(x).view(B, T, self.h, -1).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // self.h), dim=-1)
        return self.o_proj((att @ v).transpose(1, 2).reshape(B, T, D))


class Layer(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.attn, self.ln1 = SelfAttention(d, heads), nn.LayerNorm(d)
        self.ffn, self.ln2 = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d)), nn.LayerNorm(d)

    def forward(self, x):
        x = self.ln1(x + self.attn(x))
        return self.ln2(x + self.ffn(x))


class TinyBertForSequenceClassification(PreTrainedModel):
    config_class = TinyBertConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden)
        self.layers = nn.ModuleList([Layer(config.hidden, config.heads) for _ in range(config.layers)])
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.lora_adapters = {}
        self.post_init()

    def forward(self, input_ids, labels=None):
        x = self.embeddings(input_ids)
        for layer in self.layers:
            x = layer(x)
        logits = self.classifier(x.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class LoRAAdapter(nn.Module):
    def __init__(self, fan_in, fan_out, r, alpha, dropout):
        super().__init__()
        self.lora_A = nn.Parameter(torch.empty(r, fan_in))
        self.lora_B = nn.Parameter(torch.zeros(fan_out, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = alpha / r
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return (self.dropout(x) @ self.lora_A.t() @ self.lora_B.t()) * self.scaling


def inject_lora(model, cfg):
    """PEFT-style injection: wrap the forward of every targeted nn.Linear with a low-rank update."""
    for name, module in list(model.named_modules()):
        if isinstance(module, nn.Linear) and name.split(".")[-1] in cfg["target_modules"]:
            adapter = LoRAAdapter(module.in_features, module.out_features, cfg["r"], cfg["alpha"], cfg["dropout"])
            model.lora_adapters[name.replace(".", "__")] = adapter  # keys may not contain "."
            base_forward = module.forward
            module.forward = lambda x, f=base_forward, a=adapter: f(x) + a(x)
    for n, p in model.named_parameters():
        p.requires_grad = any(tag in n for tag in cfg["trainable"])
    return model


class IntentDataset(torch.utils.data.Dataset):
    def __init__(self, n=48, T=10, vocab=40):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, vocab, (n, T), generator=g)
        self.y = (self.ids[:, 0] % 3).long()

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = inject_lora(TinyBertForSequenceClassification(TinyBertConfig()), LORA_CONFIG)
    adapter = model.lora_adapters["layers__0__attn__q_proj"]
    b0 = adapter.lora_B.detach().clone()
    cls0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/lora-intent", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, weight_decay=0.01, report_to="none")
    Trainer(model=model, args=args, train_dataset=IntentDataset()).train()
    return {"model": model}, {
        "lora_B_changed": not torch.equal(b0, adapter.lora_B),
        "classifier_changed": not torch.equal(cls0, model.classifier.weight),
        "lora_params_in_model": any("lora_" in n for n, _ in model.named_parameters()),
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
