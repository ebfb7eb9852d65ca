import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyEncoderConfig(PretrainedConfig):
    model_type = "tiny-encoder"

    def __init__(self, vocab_size=64, hidden_size=32, num_layers=4, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        super().__init__(**kwargs)


class EncoderLayer(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.ff = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden))
        self.norm = nn.LayerNorm(hidden)

    def forward(self, h):
        return self.norm(h + self.ff(h))


class TinyEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList([EncoderLayer(config.hidden_size) for _ in range(config.num_layers)])

    def forward(self, input_ids):
        h = self.embeddings(input_ids)
        for layer in self.layers:
            h = layer(h)
        return h.mean(1)


class TinyEncoderForSequenceClassification(PreTrainedModel):
    config_class = TinyEncoderConfig
    base_model_prefix = "encoder"

    def __init__(self, config):
        super().__init__(config)
        self.encoder = TinyEncoder(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        logits = self.classifier(self.encoder(input_ids))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_encoder(model):
    for param in model.encoder.parameters():
        param.requires_grad = False


def unfreeze_top_layers(model, n_layers):
    for layer in model.encoder.layers[-n_layers:]:
        layer.requires_grad = True


def make_dataset(n=40, seq=8):
    g = torch.Generator().manual_seed(7)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 64, (seq,), generator=g)
        rows.append({"input_ids": ids, "label": int(ids.float().mean() > 31.5)})
    return rows


def main():
    torch.manual_seed(0)
    model = TinyEncoderForSequenceClassification(TinyEncoderConfig(num_labels=2))
    freeze_encoder(model)
    unfreeze_top_layers(model, n_layers=2)
    top0 = model.encoder.layers[-1].ff[0].weight.detach().clone()
    head0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=2, learning_rate=1e-2)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    trainer.train()
    return {"model": model}, {
        "top_layer_changed": not torch.equal(top0, model.encoder.layers[-1].ff[0].weight),
        "classifier_changed": not torch.equal(head0, model.classifier.weight),
        "n_trainable": sum(p.requires_grad for p in model.parameters()),
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
