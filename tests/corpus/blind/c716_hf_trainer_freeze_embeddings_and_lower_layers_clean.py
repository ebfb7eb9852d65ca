import torch
import torch.nn as nn
from transformers import (PreTrainedModel, PretrainedConfig, SequenceClassifierOutput, Trainer,
                          TrainerCallback, TrainingArguments)


class SmallBertConfig(PretrainedConfig):
    model_type = "small-bert"

    def __init__(self, vocab_size=200, hidden_size=32, num_layers=3, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers


class SmallBertForSequenceClassification(PreTrainedModel):
    config_class = SmallBertConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(config.hidden_size, 4, 64, batch_first=True, dropout=0.0)
            for _ in range(config.num_layers))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.embeddings(input_ids)
        for layer in self.layers:
            h = layer(h)
        logits = self.classifier(h[:, 0])
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_bottom(model, n_layers):
    model.embeddings.requires_grad_(False)
    for layer in model.layers[:n_layers]:
        for p in layer.parameters():
            p.requires_grad = False


class GradProbe(TrainerCallback):
    def __init__(self):
        self.seen = {}

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        for name in ("classifier.weight", "layers.2.linear1.weight", "layers.0.linear1.weight"):
            p = dict(model.named_parameters())[name]
            self.seen[name] = self.seen.get(name, False) or (p.grad is not None and bool(p.grad.abs().sum() > 0))


def make_dataset(n=48, seq=8, vocab=200):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (n, seq), generator=g)
    return [{"input_ids": ids[i], "label": int(ids[i, 0] < vocab // 2)} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = SmallBertForSequenceClassification(SmallBertConfig(num_labels=2))
    freeze_bottom(model, n_layers=2)
    emb_before = model.embeddings.weight.detach().clone()
    cls_before = model.classifier.weight.detach().clone()
    probe = GradProbe()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=1,
                             learning_rate=2e-3, warmup_ratio=0.1, report_to="none")
    Trainer(model=model, args=args, train_dataset=make_dataset(), callbacks=[probe]).train()
    return {"model": model}, {
        "embeddings_changed": not torch.equal(emb_before, model.embeddings.weight),
        "classifier_changed": not torch.equal(cls_before, model.classifier.weight),
        "classifier_grad_seen": probe.seen["classifier.weight"],
        "top_layer_grad_seen": probe.seen["layers.2.linear1.weight"],
        "bottom_layer_grad_seen": probe.seen["layers.0.linear1.weight"],
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
