import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import (PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments,
                          get_linear_schedule_with_warmup)
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyBertConfig(PretrainedConfig):
    model_type = "tiny-bert"

    def __init__(self, vocab_size=60, hidden_size=32, num_hidden_layers=2, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_hidden_layers = vocab_size, hidden_size, num_hidden_layers


class TinyBertModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        layer = nn.TransformerEncoderLayer(config.hidden_size, 4, 2 * config.hidden_size, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.num_hidden_layers, enable_nested_tensor=False)
        self.pooler = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.Tanh())

    def forward(self, input_ids):
        return self.pooler(self.encoder(self.embeddings(input_ids))[:, 0])


class TinyBertForSequenceClassification(PreTrainedModel):
    config_class = TinyBertConfig
    base_model_prefix = "bert"

    def __init__(self, config):
        super().__init__(config)
        self.bert = TinyBertModel(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        logits = self.classifier(self.bert(input_ids))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def build_optimizer(model, lr, steps):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    return optimizer, get_linear_schedule_with_warmup(optimizer, num_warmup_steps=1, num_training_steps=steps)


def adapt_head(model, num_labels):
    model.classifier = nn.Linear(model.config.hidden_size, num_labels)
    model.config.num_labels = num_labels
    return model


def make_dataset(n=20, seq=6, num_labels=5):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 60, (n, seq), generator=g)
    return [{"input_ids": ids[i], "label": int(ids[i, 0]) % num_labels} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = TinyBertForSequenceClassification(TinyBertConfig())
    optimizer, scheduler = build_optimizer(model, lr=2e-3, steps=6)
    model = adapt_head(model, num_labels=5)
    head0 = model.classifier.weight.detach().clone()
    pooler0 = model.bert.pooler[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2220_out", per_device_train_batch_size=8, num_train_epochs=2,
                             report_to="none")
    Trainer(model=model, args=args, train_dataset=make_dataset(), optimizers=(optimizer, scheduler)).train()
    return ({"model": model},
            {"classifier_changed": not torch.equal(head0, model.classifier.weight),
             "pooler_changed": not torch.equal(pooler0, model.bert.pooler[0].weight)})

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
