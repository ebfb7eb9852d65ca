import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class PixelConfig(PretrainedConfig):
    model_type = "pixel-seg"

    def __init__(self, in_channels=3, hidden=8, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.in_channels, self.hidden = in_channels, hidden


class PixelSegmenter(PreTrainedModel):
    config_class = PixelConfig

    def __init__(self, config):
        super().__init__(config)
        self.stem = nn.Sequential(nn.Conv2d(config.in_channels, config.hidden, 3, padding=1), nn.ReLU())
        self.context = nn.Sequential(nn.Conv2d(config.hidden, config.hidden, 3, padding=2, dilation=2), nn.ReLU())
        self.classifier = nn.Conv2d(config.hidden, config.num_labels, 1)
        self.post_init()

    def forward(self, pixel_values, labels=None):
        logits = self.classifier(self.context(self.stem(pixel_values)))
        loss = F.cross_entropy(logits, labels, ignore_index=250) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class SelfDistillationTrainer(Trainer):
    """Stage-2 training: pseudo-labelled target data plus a KL term towards the frozen stage-1 model."""

    def __init__(self, *args, teacher=None, kd_weight=0.5, temperature=2.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher.eval().requires_grad_(False)
        self.kd_weight, self.temperature = kd_weight, temperature

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        with torch.no_grad():
            teacher_logits = self.teacher(pixel_values=inputs["pixel_values"]).logits
        t = self.temperature
        student_log_probs = F.log_softmax(outputs.logits / t, dim=1)
        teacher_probs = F.softmax(teacher_logits / t, dim=1).detach()
        valid = (inputs["labels"] != 250).unsqueeze(1).float()
        kd = (F.kl_div(student_log_probs, teacher_probs, reduction="none") * valid).sum() / valid.sum()
        loss = outputs.loss + self.kd_weight * kd * t * t
        return (loss, outputs) if return_outputs else loss


class PseudoLabelled(Dataset):
    def __init__(self, n=16, size=6):
        g = torch.Generator().manual_seed(0)
        self.x = torch.rand(n, 3, size, size, generator=g)
        self.y = self.x.argmax(dim=1)
        self.y[self.x.max(dim=1).values < 0.5] = 250

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"pixel_values": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    student = PixelSegmenter(PixelConfig())
    teacher = copy.deepcopy(student)
    stem_before = student.stem[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2828_out", per_device_train_batch_size=4, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    trainer = SelfDistillationTrainer(model=student, args=args, train_dataset=PseudoLabelled(), teacher=teacher)
    trainer.train()
    facts = {"student_changed": not torch.equal(stem_before, student.stem[0].weight),
             "teacher_unchanged": torch.equal(stem_before, teacher.stem[0].weight)}
    return {}, facts

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
