import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class SegHead(nn.Module):
    def __init__(self, n_cls=3):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                 nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.cls = nn.Conv2d(8, n_cls, 1)

    def forward(self, x):
        return self.cls(self.enc(x))


class MeanTeacher:
    def __init__(self, student, alpha=0.99):
        self.teacher = copy.deepcopy(student)
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.alpha = alpha

    @torch.no_grad()
    def update(self, student, step):
        a = min(1 - 1 / (step + 1), self.alpha)
        for t, s in zip(self.teacher.parameters(), student.parameters()):
            t.data.mul_(a).add_(s.data, alpha=1 - a)

    @torch.no_grad()
    def targets(self, x):
        return F.softmax(self.teacher(x), dim=1)


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    student = SegHead()
    mt = MeanTeacher(student)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9)
    student_f, optimizer = fabric.setup(student, optimizer)
    xl, yl = torch.randn(8, 3, 8, 8), torch.randint(0, 3, (8, 8, 8))
    xu = torch.randn(16, 3, 8, 8)
    labeled = fabric.setup_dataloaders(DataLoader(TensorDataset(xl, yl), batch_size=4))
    unlabeled = fabric.setup_dataloaders(DataLoader(TensorDataset(xu), batch_size=8))
    t0 = mt.teacher.cls.weight.detach().clone()
    for step, ((x, y), (u,)) in enumerate(zip(labeled, unlabeled)):
        sup = F.cross_entropy(student_f(x), y)
        cons = F.mse_loss(F.softmax(student_f(u + 0.1 * torch.randn_like(u)), dim=1), mt.targets(u))
        optimizer.zero_grad()
        fabric.backward(sup + cons)
        optimizer.step()
        mt.update(student, step)
    return ({"student": student, "teacher": mt.teacher},
            {"teacher_moved": not torch.equal(t0, mt.teacher.cls.weight)})

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
