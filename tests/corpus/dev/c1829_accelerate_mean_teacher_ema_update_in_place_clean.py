import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


def make_segmenter(n_classes=3):
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, n_classes, 1))


@torch.no_grad()
def update_teacher(student, teacher, m):
    for p, ema_p in zip(student.parameters(), teacher.parameters()):
        ema_p.mul_(m).add_((1.0 - m) * p.detach())


def train(accelerator, student, teacher, labeled, unlabeled, optimizer, momentum=0.99, cons_weight=1.0):
    step = 0
    for (x_l, y_l), (x_u,) in zip(labeled, unlabeled):
        sup = F.cross_entropy(student(x_l), y_l)
        with torch.no_grad():
            pseudo = teacher(x_u + 0.05 * torch.randn_like(x_u)).softmax(1)
        cons = F.mse_loss(student(x_u).softmax(1), pseudo)
        loss = sup + cons_weight * cons
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        step += 1
        update_teacher(student, teacher, min(1 - 1 / (step + 1), momentum))
    return loss


@torch.no_grad()
def pixel_accuracy(model, x, y):
    model.eval()
    acc = (model(x).argmax(1) == y).float().mean().item()
    model.train()
    return acc


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    student = make_segmenter()
    teacher = copy.deepcopy(student)
    for p in teacher.parameters():
        p.requires_grad_(False)
    x_l, y_l = torch.randn(16, 3, 8, 8), torch.randint(0, 3, (16, 8, 8))
    x_u = torch.randn(16, 3, 8, 8)
    labeled = DataLoader(TensorDataset(x_l, y_l), batch_size=4, shuffle=True)
    unlabeled = DataLoader(TensorDataset(x_u), batch_size=4, shuffle=True)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9)
    student, optimizer, labeled, unlabeled = accelerator.prepare(student, optimizer, labeled, unlabeled)
    s0, t0 = student[0].weight.detach().clone(), teacher[0].weight.detach().clone()
    loss = train(accelerator, student, teacher, labeled, unlabeled, optimizer)
    s1 = student[0].weight.detach().clone()
    pixel_accuracy(teacher, x_l, y_l)
    optimizer.zero_grad()
    accelerator.backward(F.cross_entropy(student(x_l[:4]), y_l[:4]))
    return {"student": student, "teacher": teacher}, {"student_changed": not torch.equal(s0, s1),
                                                      "teacher_changed": not torch.equal(t0, teacher[0].weight)}

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
