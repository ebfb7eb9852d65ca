import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments


class DinoConfig(PretrainedConfig):
    model_type = "tiny-dino"

    def __init__(self, in_dim=20, hidden=32, out_dim=16, **kw):
        super().__init__(**kw)
        self.in_dim, self.hidden, self.out_dim = in_dim, hidden, out_dim


class DinoStudent(PreTrainedModel):
    config_class = DinoConfig
    base_model_prefix = ""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.backbone = nn.Sequential(nn.Linear(cfg.in_dim, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.hidden))
        self.head = nn.Sequential(nn.Linear(cfg.hidden, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.out_dim))

    def forward(self, view1, view2=None):
        return self.head(self.backbone(view1))


class DinoTrainer(Trainer):
    def __init__(self, *args, teacher=None, center_momentum=0.9, **kw):
        super().__init__(*args, **kw)
        self.teacher = teacher
        self.center = torch.zeros(self.model.config.out_dim)
        self.center_momentum = center_momentum

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        v1, v2 = inputs["view1"], inputs["view2"]
        s1, s2 = model(v1), model(v2)
        with torch.no_grad():
            t1, t2 = self.teacher(v1), self.teacher(v2)
            targets = [F.softmax((t - self.center) / 0.04, dim=-1) for t in (t1, t2)]
            self.center = self.center * self.center_momentum + (1 - self.center_momentum) * torch.cat([t1, t2]).mean(0)
        loss = sum(torch.sum(-tgt * F.log_softmax(s / 0.1, dim=-1), dim=-1).mean()
                   for tgt, s in ((targets[0], s2), (targets[1], s1))) / 2
        return (loss, s1) if return_outputs else loss


class TeacherEMA(TrainerCallback):
    def __init__(self, teacher, momentum=0.99):
        self.teacher, self.momentum = teacher, momentum

    def on_step_end(self, args, state, control, model=None, **kwargs):
        with torch.no_grad():
            for pt, ps in zip(self.teacher.parameters(), model.parameters()):
                pt.mul_(self.momentum).add_(ps.detach(), alpha=1 - self.momentum)


class TwoViewDataset(torch.utils.data.Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 20, generator=g)
        self.noise = torch.randn(2, n, 20, generator=g) * 0.1

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"view1": self.x[i] + self.noise[0, i], "view2": self.x[i] + self.noise[1, i]}


def main():
    torch.manual_seed(0)
    student = DinoStudent(DinoConfig())
    teacher = copy.deepcopy(student)
    teacher.requires_grad_(False)
    before_s = student.backbone[0].weight.detach().clone()
    before_t = teacher.backbone[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2539", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-3, remove_unused_columns=False, report_to=[])
    trainer = DinoTrainer(model=student, args=args, train_dataset=TwoViewDataset(), teacher=teacher,
                          callbacks=[TeacherEMA(teacher)])
    trainer.train()
    batch = TwoViewDataset()[0:8]
    trainer.compute_loss(student, batch).backward()
    facts = {"student_changed": not torch.equal(before_s, student.backbone[0].weight),
             "teacher_changed": not torch.equal(before_t, teacher.backbone[0].weight)}
    return {"student": student}, facts

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
