import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class EncDec(nn.Module):
    def __init__(self, d_in=12, hidden=24, n_cls=3):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(0.1))
        self.dec = nn.Linear(hidden, n_cls)

    def forward(self, x):
        return self.dec(self.enc(x))


@torch.no_grad()
def ema_update(teacher, student, alpha=0.95):
    for tp, sp in zip(teacher.parameters(), student.parameters()):
        tp.mul_(alpha).add_(sp, alpha=1 - alpha)


def train_epoch(fabric, student, teacher, labeled, unlabeled, optimizer, w_cons=1.0):
    for (x, y), (u,) in zip(labeled, unlabeled):
        with torch.no_grad():
            target = teacher(u).softmax(-1)
        sup = F.cross_entropy(student(x), y)
        cons = F.mse_loss(student(u + 0.05 * torch.randn_like(u)).softmax(-1), target)
        optimizer.zero_grad()
        fabric.backward(sup + w_cons * cons)
        optimizer.step()
        ema_update(teacher, student)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    student = EncDec()
    teacher = copy.deepcopy(student).requires_grad_(False)
    optimizer = torch.optim.Adam(student.parameters(), lr=1e-3)
    student, optimizer = fabric.setup(student, optimizer)
    g = torch.Generator().manual_seed(0)
    labeled = DataLoader(TensorDataset(torch.randn(16, 12, generator=g), torch.randint(0, 3, (16,), generator=g)), batch_size=4)
    unlabeled = DataLoader(TensorDataset(torch.randn(16, 12, generator=g)), batch_size=4)
    t0, s0 = teacher.enc[0].weight.detach().clone(), student.module.enc[0].weight.detach().clone()
    warm_up = 1
    for epoch in range(3):
        if epoch >= warm_up:
            teacher.load_state_dict(student.module.state_dict())
        train_epoch(fabric, student, teacher, labeled, unlabeled, optimizer)
    facts = {"teacher_changed": not torch.equal(t0, teacher.enc[0].weight),
             "student_changed": not torch.equal(s0, student.module.enc[0].weight)}
    return {"student": student.module, "teacher": teacher}, facts

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
