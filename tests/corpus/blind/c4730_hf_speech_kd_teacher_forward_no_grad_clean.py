import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, SequenceClassifierOutput


class KWSConfig(PretrainedConfig):
    model_type = "kws-student"

    def __init__(self, n_mels=20, hidden=24, num_labels=5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.n_mels, self.hidden = n_mels, hidden


class KWSStudent(PreTrainedModel):
    config_class = KWSConfig

    def __init__(self, config):
        super().__init__(config)
        self.conv = nn.Sequential(nn.Conv1d(config.n_mels, config.hidden, 3, padding=1), nn.ReLU())
        self.gru = nn.GRU(config.hidden, config.hidden, batch_first=True)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, mels, labels=None):
        h, _ = self.gru(self.conv(mels).transpose(1, 2))
        logits = self.classifier(h[:, -1])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class DistillTrainer(Trainer):
    def __init__(self, *args, teacher=None, temperature=2.0, alpha=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher.eval()
        self.temperature, self.alpha = temperature, alpha

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        with torch.no_grad():
            teacher_logits = self.teacher(inputs["mels"].flatten(1))
        T = self.temperature
        kd = F.kl_div(F.log_softmax(outputs.logits / T, -1), F.log_softmax(teacher_logits / T, -1),
                      reduction="batchmean", log_target=True) * T * T
        loss = self.alpha * kd + (1 - self.alpha) * outputs.loss
        return (loss, outputs) if return_outputs else loss


class MelDataset(Dataset):
    def __init__(self, n=24, n_mels=20, frames=12):
        g = torch.Generator().manual_seed(0)
        self.mels = torch.randn(n, n_mels, frames, generator=g)
        self.labels = torch.randint(0, 5, (n,), generator=g)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"mels": self.mels[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    teacher = nn.Sequential(nn.Linear(20 * 12, 64), nn.ReLU(), nn.Linear(64, 5))
    student = KWSStudent(KWSConfig())
    t0 = teacher[0].weight.detach().clone()
    s0 = student.conv[0].weight.detach().clone()
    g0 = student.gru.weight_hh_l0.detach().clone()
    args = TrainingArguments(output_dir="/tmp/kws-kd", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=2e-3, report_to="none")
    DistillTrainer(model=student, args=args, train_dataset=MelDataset(), teacher=teacher).train()
    return {"model": student}, {
        "student_conv_changed": not torch.equal(s0, student.conv[0].weight),
        "student_gru_changed": not torch.equal(g0, student.gru.weight_hh_l0),
        "teacher_changed": not torch.equal(t0, teacher[0].weight),
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
