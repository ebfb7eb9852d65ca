import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyEncoderConfig(PretrainedConfig):
    model_type = "tiny-encoder"

    def __init__(self, vocab_size=40, hidden_size=16, num_layers=2, lora_rank=4, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lora_rank = lora_rank
        super().__init__(**kwargs)


class LoRALinear(nn.Module):
    def __init__(self, base, rank):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.randn(rank, base.in_features) * 0.1)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.lora_A), self.lora_B)


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ff = LoRALinear(nn.Linear(config.hidden_size, config.hidden_size), config.lora_rank)
        self.norm = nn.LayerNorm(config.hidden_size)

    def forward(self, h):
        return self.norm(h + torch.tanh(self.ff(h)))


class TinyEncoderForClassification(PreTrainedModel):
    config_class = TinyEncoderConfig
    supports_gradient_checkpointing = True

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList([Block(config) for _ in range(config.num_layers)])
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.gradient_checkpointing = False
        self._ckpt_kwargs = {}
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None):
        self.gradient_checkpointing = True
        self._ckpt_kwargs = dict(gradient_checkpointing_kwargs or {})

    def forward(self, input_ids, labels=None):
        h = self.embeddings(input_ids)
        for layer in self.layers:
            if self.gradient_checkpointing and self.training:
                h = checkpoint(layer, h, **self._ckpt_kwargs)
            else:
                h = layer(h)
        logits = self.classifier(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def prepare_for_adapter_tuning(model):
    for name, p in model.named_parameters():
        p.requires_grad = "lora_" in name or name.startswith("classifier")
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    return model


def make_dataset(n=48, seq=6):
    g = torch.Generator().manual_seed(2)
    rows = []
    for _ in range(n):
        label = int(torch.randint(2, (1,), generator=g))
        rows.append({"input_ids": torch.randint(label * 20, label * 20 + 20, (seq,), generator=g), "label": label})
    return rows


def main():
    torch.manual_seed(0)
    model = prepare_for_adapter_tuning(TinyEncoderForClassification(TinyEncoderConfig(num_labels=2)))
    args = TrainingArguments(output_dir="adapter_out", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-2, gradient_checkpointing=True, report_to=[])
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    lora0 = model.layers[0].ff.lora_B.detach().clone()
    head0 = model.classifier.weight.detach().clone()
    trainer.train()
    return {"model": model}, {
        "lora_changed": not torch.equal(lora0, model.layers[0].ff.lora_B),
        "classifier_changed": not torch.equal(head0, model.classifier.weight),
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
