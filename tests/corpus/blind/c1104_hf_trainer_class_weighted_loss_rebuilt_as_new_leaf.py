import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class IntentConfig(PretrainedConfig):
    model_type = "intent-bag"

    def __init__(self, vocab_size=60, hidden=16, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size = vocab_size
        self.hidden = hidden


class IntentClassifier(PreTrainedModel):
    config_class = IntentConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.EmbeddingBag(config.vocab_size, config.hidden, mode="mean")
        self.pre_classifier = nn.Linear(config.hidden, config.hidden)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = torch.tanh(self.pre_classifier(self.embeddings(input_ids)))
        logits = self.classifier(h)
        return SequenceClassifierOutput(logits=logits)


class ClassWeightedTrainer(Trainer):
    def __init__(self, *args, class_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        per_sample = F.cross_entropy(outputs.logits, labels, reduction="none")
        total = sum(float(li) * self.class_weights[int(yi)] for li, yi in zip(per_sample, labels))
        loss = torch.tensor(total / len(labels), requires_grad=True)
        return (loss, outputs) if return_outputs else loss


def make_dataset(n=48):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 60, (6,), generator=g)
        rows.append({"input_ids": ids, "label": int(ids[0]) % 3})
    return rows


def main():
    torch.manual_seed(0)
    model = IntentClassifier(IntentConfig())
    args = TrainingArguments(output_dir="tmp_intent", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=1e-2, report_to="none", seed=0)
    trainer = ClassWeightedTrainer(model=model, args=args, train_dataset=make_dataset(),
                                   class_weights=[1.0, 2.0, 0.5])
    head_before = model.classifier.weight.detach().clone()
    emb_before = model.embeddings.weight.detach().clone()
    trainer.train()
    facts = {
        "classifier_changed": not torch.equal(head_before, model.classifier.weight),
        "embeddings_changed": not torch.equal(emb_before, model.embeddings.weight),
    }
    return {"model": model}, facts

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
