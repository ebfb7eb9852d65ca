import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class MiniBertConfig(PretrainedConfig):
    model_type = "mini-bert"

    def __init__(self, vocab_size=50, hidden_size=32, num_labels=3, classifier_dropout=0.1, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.classifier_dropout = vocab_size, hidden_size, classifier_dropout


class MiniBert(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layer = nn.Sequential(nn.LayerNorm(config.hidden_size), nn.Linear(config.hidden_size, config.hidden_size),
                                   nn.GELU(), nn.Linear(config.hidden_size, config.hidden_size))
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, input_ids):
        h = self.embeddings(input_ids)
        h = h + self.layer(h)
        return torch.tanh(self.pooler(h[:, 0]))


class MiniBertForSequenceClassification(PreTrainedModel):
    config_class = MiniBertConfig
    base_model_prefix = "bert"

    def __init__(self, config):
        super().__init__(config)
        self.bert = MiniBert(config)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        logits = self.classifier(self.dropout(self.bert(input_ids)))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_base_model(model):
    for param in model.bert.parameters():
        param.requires_grad = False
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable


def make_dataset(n=24, seq=6):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 50, (n, seq), generator=g)
    return [{"input_ids": ids[i], "label": int(ids[i, 0]) % 3} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = MiniBertForSequenceClassification(MiniBertConfig())
    n_trainable = freeze_base_model(model)
    head0 = model.classifier.weight.detach().clone()
    base0 = model.bert.pooler.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2230_out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, weight_decay=0.01, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    trainer.train()
    return ({"model": model},
            {"classifier_changed": not torch.equal(head0, model.classifier.weight),
             "base_changed": not torch.equal(base0, model.bert.pooler.weight),
             "trainable_params": n_trainable,
             "optimized_tensors": sum(len(g["params"]) for g in trainer.optimizer.param_groups)})

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
