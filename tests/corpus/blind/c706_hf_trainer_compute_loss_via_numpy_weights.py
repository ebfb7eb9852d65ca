import numpy as np
import torch
import torch.nn as nn
from transformers import (PreTrainedModel, PretrainedConfig, SequenceClassifierOutput, Trainer,
                          TrainerCallback, TrainingArguments)


class ReviewConfig(PretrainedConfig):
    model_type = "review-bag"

    def __init__(self, vocab_size=300, hidden_size=32, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class ReviewClassifier(PreTrainedModel):
    config_class = ReviewConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.EmbeddingBag(config.vocab_size, config.hidden_size, mode="mean")
        self.encoder = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.Tanh())
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        logits = self.classifier(self.encoder(self.embed(input_ids)))
        return SequenceClassifierOutput(logits=logits)


class ClassBalancedTrainer(Trainer):
    """Cross-entropy re-weighted by inverse class frequency (effective number of samples)."""

    def __init__(self, *args, class_counts=None, beta=0.99, **kwargs):
        super().__init__(*args, **kwargs)
        eff = 1.0 - np.power(beta, np.asarray(class_counts, dtype=np.float64))
        w = (1.0 - beta) / eff
        self.class_weights = w / w.sum() * len(class_counts)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        logits = outputs.logits.detach().cpu().numpy()
        logits = logits - logits.max(axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        y = labels.numpy()
        nll = -log_probs[np.arange(len(y)), y] * self.class_weights[y]
        loss = torch.tensor(nll.mean(), dtype=torch.float32, requires_grad=True)
        return (loss, outputs) if return_outputs else loss


class GradProbe(TrainerCallback):
    def __init__(self):
        self.saw_grad = False

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        self.saw_grad |= model.classifier.weight.grad is not None


def make_dataset(n=64, seq=10, vocab=300):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (n, seq), generator=g)
    labels = (ids[:, :3].sum(1) % 3 == 0).long().tolist()
    return [{"input_ids": ids[i], "label": labels[i]} for i in range(n)], labels


def main():
    torch.manual_seed(0)
    model = ReviewClassifier(ReviewConfig(num_labels=2))
    data, labels = make_dataset()
    before = model.classifier.weight.detach().clone()
    probe = GradProbe()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=1,
                             learning_rate=5e-3, report_to="none")
    trainer = ClassBalancedTrainer(model=model, args=args, train_dataset=data, callbacks=[probe],
                                   class_counts=np.bincount(labels, minlength=2))
    trainer.train()
    return {"model": model}, {"classifier_changed": not torch.equal(before, model.classifier.weight),
                              "classifier_grad_seen": probe.saw_grad}

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
