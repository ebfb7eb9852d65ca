import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class NetConfig(PretrainedConfig):
    model_type = "distil-cnn"

    def __init__(self, width=8, **kwargs):
        super().__init__(**kwargs)
        self.width = width


class ConvClassifier(PreTrainedModel):
    config_class = NetConfig
    main_input_name = "pixel_values"

    def __init__(self, config):
        super().__init__(config)
        w = config.width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU())
        self.stage = nn.Sequential(nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.ReLU())
        self.fc = nn.Linear(2 * w, config.num_labels)
        self.post_init()

    def forward(self, pixel_values, labels=None):
        feat = self.stage(self.stem(pixel_values))
        logits = self.fc(feat.mean(dim=(2, 3)))
        return SequenceClassifierOutput(logits=logits, hidden_states=(feat,))


class DistillTrainer(Trainer):
    def __init__(self, *args, teacher=None, connector=None, alpha=0.5, temperature=3.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher, self.connector = teacher.eval(), connector
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.alpha, self.T = alpha, temperature

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        out = model(**inputs)
        with torch.no_grad():
            t_out = self.teacher(**inputs)
        kd = F.kl_div(F.log_softmax(out.logits / self.T, -1), F.softmax(t_out.logits / self.T, -1),
                      reduction="batchmean") * self.T ** 2
        feat = F.mse_loss(self.connector(out.hidden_states[0]), t_out.hidden_states[0])
        loss = (1 - self.alpha) * F.cross_entropy(out.logits, labels) + self.alpha * kd + feat
        return (loss, out) if return_outputs else loss


class Student(ConvClassifier):
    def __init__(self, config):
        super().__init__(config)
        self.connector = nn.Conv2d(2 * config.width, 4 * config.width, 1)


class Images(Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.randn(n, 3, 8, 8, generator=g), torch.randint(0, 4, (n,), generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"pixel_values": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    teacher = ConvClassifier(NetConfig(width=16, num_labels=4))
    student = Student(NetConfig(width=8, num_labels=4))
    t0 = teacher.fc.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/kd", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    trainer = DistillTrainer(model=student, args=args, train_dataset=Images(), teacher=teacher,
                             connector=student.connector)
    trainer.train()
    batch = {"pixel_values": Images().x[:8], "labels": Images().y[:8]}
    trainer.compute_loss(student, batch).backward()
    return ({"student": student, "teacher": teacher},
            {"teacher_unchanged": torch.equal(t0, teacher.fc.weight)})

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
