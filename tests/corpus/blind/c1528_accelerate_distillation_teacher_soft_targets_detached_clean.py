import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


def mlp(in_dim, hidden, out_dim, depth):
    layers, d = [], in_dim
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), nn.ReLU()]
        d = hidden
    return nn.Sequential(*layers, nn.Linear(d, out_dim))


def distillation_loss(student_logits, teacher_logits, labels, temperature=3.0, alpha=0.7):
    soft_targets = F.softmax(teacher_logits / temperature, dim=-1).detach()
    kd = F.kl_div(F.log_softmax(student_logits / temperature, dim=-1), soft_targets, reduction="batchmean")
    return alpha * temperature ** 2 * kd + (1 - alpha) * F.cross_entropy(student_logits, labels)


def pretrain_teacher(teacher, loader, steps=30):
    opt = torch.optim.Adam(teacher.parameters(), lr=5e-3)
    it = iter(loader)
    for _ in range(steps):
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        opt.zero_grad()
        F.cross_entropy(teacher(x), y).backward()
        opt.step()
    teacher.eval()
    teacher.requires_grad_(False)
    return teacher


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    g = torch.Generator().manual_seed(101)
    x = torch.randn(96, 20, generator=g)
    y = (x[:, :3].sum(1) > 0).long() + (x[:, 3] > 1).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    teacher = pretrain_teacher(mlp(20, 64, 3, depth=3), loader)
    student = mlp(20, 16, 3, depth=1)
    optimizer = torch.optim.AdamW(student.parameters(), lr=3e-3)
    student, optimizer, loader = accelerator.prepare(student, optimizer, loader)
    s0 = student[0].weight.detach().clone()
    t0 = teacher[0].weight.detach().clone()
    student.train()
    for xb, yb in loader:
        with accelerator.accumulate(student):
            with torch.no_grad():
                teacher_logits = teacher(xb)
            loss = distillation_loss(student(xb), teacher_logits, yb)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
    loss = distillation_loss(student(x[:16]), teacher(x[:16]), y[:16])
    accelerator.backward(loss)
    return {"student": student}, {"student_changed": not torch.equal(s0, student[0].weight),
                                  "teacher_changed": not torch.equal(t0, teacher[0].weight),
                                  "teacher_has_grad_after_kd": teacher[0].weight.grad is not None and bool(teacher[0].weight.requires_grad)}

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
