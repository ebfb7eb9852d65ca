import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self, d_in=16, n_classes=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, 64), nn.ReLU(), nn.Linear(64, n_classes))

    def forward(self, x):
        return self.net(x)


def weak_aug(x):
    return x + 0.05 * torch.randn_like(x)


def strong_aug(x):
    return x * (torch.rand_like(x) > 0.2).float() + 0.2 * torch.randn_like(x)


@torch.no_grad()
def update_teacher(teacher, student, decay=0.99):
    for t_param, s_param in zip(teacher.parameters(), student.parameters()):
        t_param.mul_(decay).add_(s_param.detach(), alpha=1 - decay)


def train(accelerator, student, teacher, labeled, unlabeled, optimizer, consistency=1.0, epochs=2):
    student.train()
    for _ in range(epochs):
        for (x_lab, y), (x_unlab,) in zip(labeled, unlabeled):
            teacher_probs = F.softmax(teacher(weak_aug(x_unlab)), dim=-1).detach()
            student_logp = F.log_softmax(student(strong_aug(x_unlab)), dim=-1)
            loss = F.cross_entropy(student(x_lab), y) + consistency * F.kl_div(student_logp, teacher_probs,
                                                                                 reduction="batchmean")
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            update_teacher(teacher, accelerator.unwrap_model(student))


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(4, 16, generator=g) * 2
    y = torch.randint(0, 4, (32,), generator=g)
    x_lab = centers[y] + torch.randn(32, 16, generator=g)
    x_unlab = centers[torch.randint(0, 4, (96,), generator=g)] + torch.randn(96, 16, generator=g)
    labeled = DataLoader(TensorDataset(x_lab, y), batch_size=8, shuffle=True, generator=g)
    unlabeled = DataLoader(TensorDataset(x_unlab), batch_size=24, shuffle=True, generator=g)
    student = Classifier()
    teacher = copy.deepcopy(student)
    teacher.requires_grad_(False)
    optimizer = torch.optim.Adam(student.parameters(), lr=1e-3)
    student, optimizer, labeled, unlabeled = accelerator.prepare(student, optimizer, labeled, unlabeled)
    teacher_before = teacher.net[0].weight.detach().clone()
    train(accelerator, student, teacher, labeled, unlabeled, optimizer)
    facts = {
        "teacher_changed": not torch.equal(teacher_before, teacher.net[0].weight),
        "teacher_requires_grad": teacher.net[0].weight.requires_grad,
    }
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
