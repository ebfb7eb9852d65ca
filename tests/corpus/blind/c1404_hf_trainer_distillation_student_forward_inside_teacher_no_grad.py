import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class IntentConfig(PretrainedConfig):
    model_type = "tiny-intent"

    def __init__(self, vocab_size=60, hidden_size=16, num_labels=4, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class IntentClassifier(PreTrainedModel):
    config_class = IntentConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.EmbeddingBag(config.vocab_size, config.hidden_size)
        self.encoder = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.Tanh())
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        logits = self.classifier(self.encoder(self.embeddings(input_ids)))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class DistillationTrainer(Trainer):
    def __init__(self, *args, teacher=None, alpha=0.5, temperature=2.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher.eval()
        self.alpha, self.temperature = alpha, temperature

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        t = self.temperature
        with torch.no_grad():
            teacher_logits = self.teacher(**inputs).logits
            student_logits = model(**inputs).logits
        kd = F.kl_div(F.log_softmax(student_logits / t, dim=-1), F.softmax(teacher_logits / t, dim=-1),
                      reduction="batchmean") * t * t
        loss = self.alpha * kd + (1 - self.alpha) * F.cross_entropy(student_logits, labels)
        return (loss, student_logits) if return_outputs else loss


def make_dataset(n=32):
    g = torch.Generator().manual_seed(4)
    return [{"input_ids": ids, "label": int(ids[:3].sum()) % 4}
            for ids in torch.randint(0, 60, (n, 8), generator=g)]


def main():
    torch.manual_seed(0)
    teacher = IntentClassifier(IntentConfig(hidden_size=32))
    student = IntentClassifier(IntentConfig())
    args = TrainingArguments(output_dir="tmp_distill", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=1e-3, report_to="none", seed=0)
    trainer = DistillationTrainer(model=student, args=args, train_dataset=make_dataset(), teacher=teacher)
    trainer.train()
    return {"student": student}

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
