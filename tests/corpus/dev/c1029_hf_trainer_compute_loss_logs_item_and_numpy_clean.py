import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class ToxicityConfig(PretrainedConfig):
    model_type = "tiny-toxicity"

    def __init__(self, vocab_size=70, hidden_size=24, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class ToxicityClassifier(PreTrainedModel):
    config_class = ToxicityConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.conv = nn.Conv1d(config.hidden_size, config.hidden_size, 3, padding=1)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        h = F.relu(self.conv(self.embeddings(input_ids).transpose(1, 2))).amax(-1)
        return SequenceClassifierOutput(logits=self.classifier(h))


class WeightedTrainer(Trainer):
    """Class-weighted cross-entropy, with a running accuracy logged from NumPy."""

    def __init__(self, *args, class_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights
        self.seen_correct = []

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = F.cross_entropy(outputs.logits, labels, weight=self.class_weights)
        preds = outputs.logits.argmax(-1).cpu().numpy()
        self.seen_correct.extend((preds == labels.cpu().numpy()).tolist())
        self.log({"train_acc": float(np.mean(self.seen_correct)), "batch_loss": loss.item()})
        return (loss, outputs) if return_outputs else loss


def make_comments(n=40, seq_len=7):
    g = torch.Generator().manual_seed(6)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 70, (seq_len,), generator=g)
        rows.append({"input_ids": ids, "label": int((ids < 10).any())})
    return rows


def main():
    torch.manual_seed(0)
    model = ToxicityClassifier(ToxicityConfig())
    args = TrainingArguments(output_dir="tmp_tox", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=3e-3, report_to="none", seed=0)
    trainer = WeightedTrainer(model=model, args=args, train_dataset=make_comments(),
                              class_weights=torch.tensor([1.0, 2.0]))
    conv_before = model.conv.weight.detach().clone()
    head_before = model.classifier.weight.detach().clone()
    trainer.train()
    facts = {
        "conv_changed": not torch.equal(conv_before, model.conv.weight),
        "classifier_changed": not torch.equal(head_before, model.classifier.weight),
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
