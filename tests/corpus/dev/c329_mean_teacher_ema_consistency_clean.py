import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvNet(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.Dropout(0.1), nn.AdaptiveAvgPool2d(2), nn.Flatten())
        self.classifier = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.classifier(self.features(x))


def create_ema(model):
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    return ema


@torch.no_grad()
def update_ema(student, teacher, global_step, alpha=0.99):
    alpha = min(1 - 1 / (global_step + 1), alpha)
    for ema_p, p in zip(teacher.parameters(), student.parameters()):
        ema_p.mul_(alpha).add_(p.detach(), alpha=1 - alpha)
    for ema_b, b in zip(teacher.buffers(), student.buffers()):
        ema_b.copy_(b)


def noisy(x, g):
    return x + 0.1 * torch.randn(x.shape, generator=g)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    xl, yl = torch.randn(16, 1, 8, 8, generator=g), torch.randint(0, 3, (16,), generator=g)
    xu = torch.randn(48, 1, 8, 8, generator=g)
    labeled = DataLoader(TensorDataset(xl, yl), batch_size=4, shuffle=True, generator=g)
    unlabeled = DataLoader(TensorDataset(xu), batch_size=12, shuffle=True, generator=g)
    student = ConvNet()
    teacher = create_ema(student)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9)
    step = 0
    teacher_before = teacher.classifier.weight.clone()
    for epoch in range(2):
        for (x, y), (u,) in zip(labeled, unlabeled):
            with torch.no_grad():
                teacher_probs = F.softmax(teacher(noisy(u, g)), dim=-1)
            student_u = F.log_softmax(student(noisy(u, g)), dim=-1)
            loss = F.cross_entropy(student(x), y) + F.kl_div(student_u, teacher_probs, reduction="batchmean")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            update_ema(student, teacher, step)
            step += 1
    facts = {"teacher_tracks_student": not torch.equal(teacher_before, teacher.classifier.weight),
             "teacher_has_grad": any(p.grad is not None for p in teacher.parameters())}
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
