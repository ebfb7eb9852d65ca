import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class TopicConfig(PretrainedConfig):
    model_type = "tiny-topic"

    def __init__(self, vocab_size=64, hidden_size=16, num_layers=1, num_labels=4, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers


class TopicClassifier(PreTrainedModel):
    config_class = TopicConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.GELU())
                                    for _ in range(config.num_layers))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        h = self.embeddings(input_ids)
        for layer in self.layers:
            h = h + layer(h)
        logits = self.classifier(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class DistillationTrainer(Trainer):
    def __init__(self, *args, teacher=None, temperature=2.0, alpha=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher, self.temperature, self.alpha = teacher.eval(), temperature, alpha

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        with torch.inference_mode():
            teacher_logits = self.teacher(input_ids=inputs["input_ids"]).logits
            teacher_probs = F.softmax(teacher_logits / self.temperature, dim=-1)
        student_logp = F.log_softmax(outputs.logits / self.temperature, dim=-1)
        kd = F.kl_div(student_logp, teacher_probs, reduction="batchmean") * self.temperature ** 2
        loss = self.alpha * outputs.loss + (1 - self.alpha) * kd
        return (loss, outputs) if return_outputs else loss


def make_dataset(n=48, seq_len=8, vocab=64):
    g = torch.Generator().manual_seed(4)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, vocab, (seq_len,), generator=g)
        rows.append({"input_ids": ids, "labels": int(ids.sum()) % 4})
    return rows


def main():
    torch.manual_seed(0)
    teacher = TopicClassifier(TopicConfig(hidden_size=32, num_layers=2))
    student = TopicClassifier(TopicConfig())
    args = TrainingArguments(output_dir="tmp_distill", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
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
