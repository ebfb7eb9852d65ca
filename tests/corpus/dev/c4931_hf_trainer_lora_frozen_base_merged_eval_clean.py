import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class BlockConfig(PretrainedConfig):
    model_type = "tiny-block"

    def __init__(self, vocab_size=40, hidden=32, n_layers=2, rank=4, alpha=8, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.n_layers, self.rank, self.alpha = vocab_size, hidden, n_layers, rank, alpha


class LoRALinear(nn.Module):
    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base = base
        self.base.weight.requires_grad_(False)
        self.base.bias.requires_grad_(False)
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = alpha / rank
        self.merged = False

    def forward(self, x):
        out = self.base(x)
        if not self.merged:
            out = out + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scaling
        return out

    @torch.no_grad()
    def merge_(self):
        self.base.weight += (self.lora_B @ self.lora_A) * self.scaling
        self.merged = True


class TinyClassifier(PreTrainedModel):
    config_class = BlockConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.layers = nn.ModuleList(nn.Linear(config.hidden, config.hidden) for _ in range(config.n_layers))
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        h = self.embed(input_ids)
        for layer in self.layers:
            h = h + torch.tanh(layer(h))
        logits = self.classifier(h.mean(1))
        return SequenceClassifierOutput(loss=F.cross_entropy(logits, labels) if labels is not None else None, logits=logits)


def add_lora(model):
    model.embed.weight.requires_grad_(False)
    for i, layer in enumerate(model.layers):
        model.layers[i] = LoRALinear(layer, model.config.rank, model.config.alpha)
    return model


class TokenData(Dataset):
    def __init__(self, n=64, seq=10, vocab=40):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, vocab, (n, seq), generator=g)
        self.labels = (self.ids[:, 0] < vocab // 2).long()

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = add_lora(TinyClassifier(BlockConfig(num_labels=2)))
    base0 = model.layers[0].base.weight.detach().clone()
    b0 = model.layers[0].lora_B.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=2, learning_rate=5e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=TokenData()).train()
    base_after_training = model.layers[0].base.weight.detach().clone()
    for layer in model.layers:
        layer.merge_()
    return {"model": model}, {
        "base_changed_by_training": not torch.equal(base0, base_after_training),
        "lora_B_changed": not torch.equal(b0, model.layers[0].lora_B),
        "merge_changed_base": not torch.equal(base_after_training, model.layers[0].base.weight),
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
