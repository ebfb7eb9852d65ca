import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class KWSConfig(PretrainedConfig):
    model_type = "kws_cnn"

    def __init__(self, n_mels=8, width=16, **kwargs):
        super().__init__(**kwargs)
        self.n_mels, self.width = n_mels, width


class KeywordSpotter(PreTrainedModel):
    config_class = KWSConfig

    def __init__(self, config):
        super().__init__(config)
        self.features = nn.Sequential(nn.Conv1d(config.n_mels, config.width, 3, padding=1), nn.ReLU(),
                                      nn.Conv1d(config.width, config.width, 3, padding=1), nn.ReLU(),
                                      nn.AdaptiveAvgPool1d(1))
        self.classifier = nn.Linear(config.width, config.num_labels)

    def forward(self, input_features=None, labels=None):
        logits = self.classifier(self.features(input_features).squeeze(-1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class DistillationTrainer(Trainer):
    def __init__(self, *args, teacher=None, temperature=2.0, alpha=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher.eval()
        self.teacher.requires_grad_(False)
        self.temperature, self.alpha = temperature, alpha

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        with torch.no_grad():
            teacher_logits = self.teacher(**inputs).logits
        t = self.temperature
        kd = F.kl_div(F.log_softmax(outputs.logits / t, -1), F.softmax(teacher_logits / t, -1),
                      reduction="batchmean") * t * t
        loss = self.alpha * outputs.loss + (1 - self.alpha) * kd
        self.log({"kd_loss": kd.item()})
        return (loss, outputs) if return_outputs else loss


def make_clips(n=48):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 3
    x = 0.3 * torch.randn(n, 8, 12, generator=g)
    for i in range(n):
        x[i, 2 * int(y[i]):2 * int(y[i]) + 2] += 1.0
    return [{"input_features": x[i], "label": int(y[i])} for i in range(n)]


def main():
    torch.manual_seed(0)
    teacher = KeywordSpotter(KWSConfig(width=32, num_labels=3))
    student = KeywordSpotter(KWSConfig(width=8, num_labels=3))
    s0 = student.features[0].weight.detach().clone()
    t0 = teacher.features[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/kws_kd", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    DistillationTrainer(model=student, args=args, train_dataset=make_clips(), teacher=teacher).train()
    return {"student": student, "teacher": teacher}, {
        "student_changed": not torch.equal(s0, student.features[0].weight),
        "teacher_unchanged": torch.equal(t0, teacher.features[0].weight),
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
