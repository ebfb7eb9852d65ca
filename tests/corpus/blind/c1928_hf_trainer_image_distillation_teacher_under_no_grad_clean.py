import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class ConvNetConfig(PretrainedConfig):
    model_type = "tiny-convnet"

    def __init__(self, width=8, depth=1, num_labels=5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.width, self.depth = width, depth


class ConvNetForImageClassification(PreTrainedModel):
    config_class = ConvNetConfig

    def __init__(self, config):
        super().__init__(config)
        layers = [nn.Conv2d(3, config.width, 3, padding=1), nn.ReLU()]
        for _ in range(config.depth):
            layers += [nn.Conv2d(config.width, config.width, 3, padding=1), nn.BatchNorm2d(config.width), nn.ReLU()]
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(config.width, config.num_labels)
        self.post_init()

    def forward(self, pixel_values, labels=None):
        logits = self.classifier(self.features(pixel_values))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class ImageDistilTrainer(Trainer):
    def __init__(self, *args, teacher_model=None, temperature=4.0, lambda_param=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher_model
        self.teacher.eval()
        self.teacher.requires_grad_(False)
        self.temperature, self.lambda_param = temperature, lambda_param
        self.kd_history = []

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        student_output = model(**inputs)
        with torch.no_grad():
            teacher_output = self.teacher(**inputs)
        T = self.temperature
        soft_student = F.log_softmax(student_output.logits / T, dim=-1)
        soft_teacher = F.softmax(teacher_output.logits / T, dim=-1)
        kd = F.kl_div(soft_student, soft_teacher, reduction="batchmean") * T ** 2
        loss = (1 - self.lambda_param) * student_output.loss + self.lambda_param * kd
        self.kd_history.append(kd.item())
        return (loss, student_output) if return_outputs else loss


def main():
    torch.manual_seed(0)
    teacher = ConvNetForImageClassification(ConvNetConfig(width=16, depth=2))
    student = ConvNetForImageClassification(ConvNetConfig(width=8, depth=1))
    data = [{"pixel_values": torch.rand(3, 8, 8), "label": i % 5} for i in range(20)]
    s0 = student.classifier.weight.detach().clone()
    t0 = teacher.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/distil", per_device_train_batch_size=5, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none", lr_scheduler_type="linear")
    trainer = ImageDistilTrainer(model=student, args=args, train_dataset=data, teacher_model=teacher)
    trainer.train()
    batch = {"pixel_values": torch.stack([d["pixel_values"] for d in data[:5]]), "labels": torch.arange(5)}
    student.zero_grad(set_to_none=True)
    trainer.compute_loss(student, batch).backward()
    return ({"student": student, "teacher": teacher},
            {"student_changed": not torch.equal(s0, student.classifier.weight),
             "teacher_changed": not torch.equal(t0, teacher.classifier.weight)})

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
