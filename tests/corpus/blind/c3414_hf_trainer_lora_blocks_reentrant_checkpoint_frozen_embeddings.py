import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class LoraLinear(nn.Module):
    def __init__(self, base, r=4, alpha=8):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features) * 0.05)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scaling


class Block(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.norm = nn.LayerNorm(h)
        self.fc_in = nn.Linear(h, 2 * h)
        self.fc_out = nn.Linear(2 * h, h)

    def forward(self, x):
        return x + self.fc_out(F.gelu(self.fc_in(self.norm(x))))


class TinyConfig(PretrainedConfig):
    model_type = "tiny-mlp-lm"

    def __init__(self, vocab_size=64, hidden_size=32, num_layers=2, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers


class TinyForSequenceClassification(PreTrainedModel):
    config_class = TinyConfig
    supports_gradient_checkpointing = True

    def __init__(self, config):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList([Block(config.hidden_size) for _ in range(config.num_layers)])
        self.score = nn.Linear(config.hidden_size, config.num_labels)
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self):
        return self.embed_tokens

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None):
        self.gradient_checkpointing = True

    def forward(self, input_ids, attention_mask=None, labels=None):
        h = self.embed_tokens(input_ids)
        for layer in self.layers:
            if self.gradient_checkpointing and self.training:
                h = checkpoint(layer, h, use_reentrant=True)
            else:
                h = layer(h)
        logits = self.score(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def add_lora(model, r=4):
    model.requires_grad_(False)
    for layer in model.layers:
        layer.fc_in = LoraLinear(layer.fc_in, r)
        layer.fc_out = LoraLinear(layer.fc_out, r)
    model.score.requires_grad_(True)
    return model


class ReviewDataset(Dataset):
    def __init__(self, n=24, seq=10):
        g = torch.Generator().manual_seed(27)
        self.ids = torch.randint(0, 64, (n, seq), generator=g)
        self.labels = (self.ids[:, :3].sum(1) % 3).tolist()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = add_lora(TinyForSequenceClassification(TinyConfig()))
    model.gradient_checkpointing_enable()
    args = TrainingArguments(output_dir="/tmp/c3414_out", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-2, gradient_checkpointing=True, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=ReviewDataset())
    b0 = model.layers[0].fc_in.lora_B.detach().clone()
    s0 = model.score.weight.detach().clone()
    trainer.train()
    return {"model": model}, {"lora_changed": not torch.equal(b0, model.layers[0].fc_in.lora_B),
                              "score_changed": not torch.equal(s0, model.score.weight)}

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
