import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput

LORA = {"r": 4, "alpha": 16, "targets": ("query", "value")}


class MiniRobertaConfig(PretrainedConfig):
    model_type = "mini-roberta"

    def __init__(self, vocab_size=60, hidden=32, heads=4, layers=2, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden, self.heads, self.layers = vocab_size, hidden, heads, layers


class LoRALinear(nn.Linear):
    """nn.Linear with a low-rank update W + (alpha / r) * B @ A (lit-gpt / loralib style)."""

    def __init__(self, in_features, out_features, r, alpha):
        super().__init__(in_features, out_features)
        self.lora_A = nn.Parameter(torch.empty(r, in_features))
        self.lora_B = nn.Parameter(torch.zeros(out_features, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = alpha / r
        self.merged = False

    def delta_weight(self):
        return (self.lora_B.data @ self.lora_A.data) * self.scaling

    @torch.no_grad()
    def merge(self):
        if not self.merged:
            self.weight += self.delta_weight()
            self.merged = True

    def forward(self, x):
        if self.merged:
            return F.linear(x, self.weight, self.bias)
        return F.linear(x, self.weight + self.delta_weight(), self.bias)


class Attention(nn.Module):
    def __init__(self, d, heads, lora):
        super().__init__()
        self.h = heads
        make = lambda name: LoRALinear(d, d, lora["r"], lora["alpha"]) if name in lora["targets"] else nn.Linear(d, d)
        self.query, self.key, self.value, self.dense = make("query"), make("key"), make("value"), nn.Linear(d, d)

    def forward(self, x, mask):
        B, T, D = x.shape
        q, k, v = (m(x).view(B, T, self.h, -1).transpose(1, 2) for m in (self.query, self.key, self.value))
        scores = q @ k.transpose(-1, -2) / math.sqrt(D // self.h) + (1.0 - mask[:, None, None, :]) * -1e4
        return self.dense((torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(B, T, D))


class MiniRobertaForSequenceClassification(PreTrainedModel):
    config_class = MiniRobertaConfig

    def __init__(self, config, lora=LORA):
        super().__init__(config)
        d = config.hidden
        self.embeddings = nn.Embedding(config.vocab_size, d)
        self.attn = nn.ModuleList([Attention(d, config.heads, lora) for _ in range(config.layers)])
        self.norms = nn.ModuleList([nn.LayerNorm(d) for _ in range(config.layers)])
        self.classifier = nn.Sequential(nn.Linear(d, d), nn.Tanh(), nn.Linear(d, config.num_labels))
        self.post_init()

    def forward(self, input_ids, attention_mask, labels=None):
        x = self.embeddings(input_ids)
        for attn, norm in zip(self.attn, self.norms):
            x = norm(x + attn(x, attention_mask.float()))
        return SequenceClassifierOutput(logits=self.classifier(x[:, 0]))


def mark_only_lora_and_head_trainable(model):
    for n, p in model.named_parameters():
        p.requires_grad = "lora_" in n or n.startswith("classifier")


class WeightedLossTrainer(Trainer):
    """Class-weighted cross entropy for the imbalanced label distribution."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        weights = torch.tensor([1.0, 2.0, 4.0])
        loss = F.cross_entropy(outputs.logits, labels, weight=weights)
        return (loss, outputs) if return_outputs else loss


class NLIDataset(torch.utils.data.Dataset):
    def __init__(self, n=48, T=10, vocab=60):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, vocab, (n, T), generator=g)
        self.mask = (torch.arange(T)[None] < torch.randint(6, T + 1, (n, 1), generator=g)).long()
        self.y = torch.tensor([0] * 30 + [1] * 12 + [2] * 6)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": self.mask[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = MiniRobertaForSequenceClassification(MiniRobertaConfig())
    mark_only_lora_and_head_trainable(model)
    a0 = model.attn[0].query.lora_A.detach().clone()
    b0 = model.attn[0].value.lora_B.detach().clone()
    c0 = model.classifier[2].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/lora-nli", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, remove_unused_columns=False, report_to="none")
    WeightedLossTrainer(model=model, args=args, train_dataset=NLIDataset()).train()
    return {"model": model}, {
        "lora_A_changed": not torch.equal(a0, model.attn[0].query.lora_A),
        "lora_B_changed": not torch.equal(b0, model.attn[0].value.lora_B),
        "classifier_changed": not torch.equal(c0, model.classifier[2].weight),
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
