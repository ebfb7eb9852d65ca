import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DINOHead(nn.Module):
    def __init__(self, in_dim=16, out_dim=32):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, 32), nn.GELU(), nn.Linear(32, 16))
        self.last_layer = nn.Linear(16, out_dim, bias=False)

    def forward(self, x):
        return self.last_layer(F.normalize(self.mlp(x), dim=-1))


class DINOLoss(nn.Module):
    def __init__(self, out_dim=32, teacher_temp=0.04, student_temp=0.1, center_momentum=0.9):
        super().__init__()
        self.register_buffer("center", torch.zeros(1, out_dim))
        self.teacher_temp, self.student_temp, self.center_momentum = teacher_temp, student_temp, center_momentum

    def forward(self, student_out, teacher_out):
        teacher_probs = F.softmax((teacher_out - self.center) / self.teacher_temp, dim=-1)
        loss = torch.sum(-teacher_probs * F.log_softmax(student_out / self.student_temp, dim=-1), dim=-1).mean()
        self.update_center(teacher_out)
        return loss

    @torch.no_grad()
    def update_center(self, teacher_out):
        self.center.mul_(self.center_momentum).add_(teacher_out.mean(0, keepdim=True), alpha=1 - self.center_momentum)


def build(backbone_dim=16):
    backbone = nn.Sequential(nn.Linear(20, 32), nn.GELU(), nn.Linear(32, backbone_dim))
    student = nn.Sequential(backbone, DINOHead(backbone_dim))
    teacher = copy.deepcopy(student)
    for p in teacher.parameters():
        p.requires_grad = False
    return student, teacher


def train_one_epoch(student, teacher, criterion, loader, optimizer, momentum=0.99):
    for (x,) in loader:
        view1, view2 = x + 0.1 * torch.randn_like(x), x + 0.1 * torch.randn_like(x)
        with torch.no_grad():
            t1, t2 = teacher(view1), teacher(view2)
        s1, s2 = student(view1), student(view2)
        loss = 0.5 * (criterion(s2, t1) + criterion(s1, t2))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for ps, pt in zip(student.parameters(), teacher.parameters()):
                pt.mul_(momentum).add_(ps.detach(), alpha=1 - momentum)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(16)
    loader = DataLoader(TensorDataset(torch.randn(48, 20, generator=g)), batch_size=12, shuffle=True, generator=g)
    student, teacher = build()
    criterion = DINOLoss()
    optimizer = torch.optim.AdamW(student.parameters(), lr=1e-3)
    s0, t0 = student[0][0].weight.detach().clone(), teacher[0][0].weight.detach().clone()
    train_one_epoch(student, teacher, criterion, loader, optimizer)
    facts = {"student_changed": not torch.equal(s0, student[0][0].weight),
             "teacher_followed_student": not torch.equal(t0, teacher[0][0].weight),
             "center_moved": bool(criterion.center.abs().sum() > 0)}
    return {"student": student, "teacher": teacher}, facts

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
