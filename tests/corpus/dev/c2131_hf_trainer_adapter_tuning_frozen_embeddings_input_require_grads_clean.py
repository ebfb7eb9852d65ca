import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyConfig(PretrainedConfig):
    model_type = "tiny-adapter-lm"

    def __init__(self, vocab_size=40, hidden_size=16, n_layers=2, bottleneck=4, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.n_layers, self.bottleneck = n_layers, bottleneck


class Adapter(nn.Module):
    def __init__(self, dim, bottleneck):
        super().__init__()
        self.down, self.up = nn.Linear(dim, bottleneck), nn.Linear(bottleneck, dim)

    def forward(self, h):
        return h + self.up(F.gelu(self.down(h)))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ff = nn.Sequential(nn.Linear(cfg.hidden_size, 2 * cfg.hidden_size), nn.GELU(),
                                nn.Linear(2 * cfg.hidden_size, cfg.hidden_size))
        self.norm = nn.LayerNorm(cfg.hidden_size)
        self.adapter = Adapter(cfg.hidden_size, cfg.bottleneck)

    def forward(self, h):
        return self.adapter(self.norm(h + self.ff(h)))


class AdapterClassifier(PreTrainedModel):
    config_class = TinyConfig
    supports_gradient_checkpointing = True

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList([Block(config) for _ in range(config.n_layers)])
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None):
        self.gradient_checkpointing = True

    def forward(self, input_ids, labels=None):
        h = self.embeddings(input_ids)
        for layer in self.layers:
            h = checkpoint(layer, h, use_reentrant=True) if self.gradient_checkpointing and self.training else layer(h)
        logits = self.classifier(h.mean(dim=1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_for_adapter_tuning(model):
    for name, p in model.named_parameters():
        p.requires_grad = "adapter" in name or name.startswith("classifier")
    model.gradient_checkpointing_enable()
    model.enable_input_require_grads()


class Reviews(Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(0)
        self.ids, self.y = torch.randint(0, 40, (n, 8), generator=g), torch.randint(0, 2, (n,), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = AdapterClassifier(TinyConfig(num_labels=2))
    freeze_for_adapter_tuning(model)
    emb0 = model.embeddings.weight.detach().clone()
    up0 = model.layers[0].adapter.up.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/adapters", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    Trainer(model=model, args=args, train_dataset=Reviews()).train()
    model.train()
    model(input_ids=Reviews().ids[:8], labels=Reviews().y[:8]).loss.backward()
    return ({"model": model},
            {"adapter_changed": not torch.equal(up0, model.layers[0].adapter.up.weight),
             "embeddings_changed": not torch.equal(emb0, model.embeddings.weight)})

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
