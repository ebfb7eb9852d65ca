import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class IntentConfig(PretrainedConfig):
    model_type = "tiny_intent"

    def __init__(self, vocab_size=60, hidden=16, num_labels=4, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size = vocab_size
        self.hidden = hidden


class BagOfEmbeddingsClassifier(PreTrainedModel):
    config_class = IntentConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.EmbeddingBag(config.vocab_size, config.hidden, mode="mean")
        self.ffn = nn.Sequential(nn.Linear(config.hidden, config.hidden), nn.GELU())
        self.out = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        logits = self.out(self.ffn(self.embed(input_ids)))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class DistillationTrainer(Trainer):
    def __init__(self, *args, teacher_model=None, temperature=2.0, alpha=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher_model.eval()
        self.temperature, self.alpha = temperature, alpha

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        with torch.no_grad():
            teacher_logits = self.teacher(input_ids=inputs["input_ids"]).logits
        T = self.temperature
        kd = F.kl_div(F.log_softmax(outputs.logits / T, -1), F.softmax(teacher_logits / T, -1),
                      reduction="batchmean") * T * T
        loss = self.alpha * outputs.loss + (1 - self.alpha) * kd
        return (loss, outputs) if return_outputs else loss


def make_dataset(n=48):
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, 60, (n, 6), generator=g)
    return [{"input_ids": ids[i], "label": int(ids[i, 0] % 4)} for i in range(n)]


def main():
    torch.manual_seed(0)
    teacher = BagOfEmbeddingsClassifier(IntentConfig(hidden=32))
    student = BagOfEmbeddingsClassifier(IntentConfig(hidden=8))
    t0 = teacher.out.weight.detach().clone()
    s0 = student.out.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/kd", per_device_train_batch_size=12, num_train_epochs=2,
                             learning_rate=1e-2, lr_scheduler_type="constant", report_to="none")
    DistillationTrainer(model=student, args=args, train_dataset=make_dataset(), teacher_model=teacher).train()
    return {"student_out": student.out}, {
        "student_changed": not torch.equal(s0, student.out.weight),
        "teacher_unchanged": torch.equal(t0, teacher.out.weight),
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
