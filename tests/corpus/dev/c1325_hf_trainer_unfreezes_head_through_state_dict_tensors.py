import torch
import torch.nn as nn
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class ReviewConfig(PretrainedConfig):
    model_type = "review-encoder"

    def __init__(self, vocab_size=70, hidden_size=24, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class ReviewClassifier(PreTrainedModel):
    config_class = ReviewConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.encoder = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.Tanh())
        self.pre_classifier = nn.Linear(config.hidden_size, config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        pooled = self.encoder(self.embeddings(input_ids)).mean(1)
        logits = self.classifier(torch.relu(self.pre_classifier(pooled)))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_all_but(model, trainable_prefixes):
    model.requires_grad_(False)
    for name, tensor in model.state_dict().items():
        if name.startswith(trainable_prefixes):
            tensor.requires_grad = True
    return model


def make_dataset(n=40):
    g = torch.Generator().manual_seed(14)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 70, (8,), generator=g)
        rows.append({"input_ids": ids, "label": int(ids[:4].sum()) % 3})
    return rows


def main():
    torch.manual_seed(0)
    model = freeze_all_but(ReviewClassifier(ReviewConfig()), ("pre_classifier", "classifier"))
    args = TrainingArguments(output_dir="tmp_review", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=1e-3, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    trainer.train()
    return {"model": model}

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
