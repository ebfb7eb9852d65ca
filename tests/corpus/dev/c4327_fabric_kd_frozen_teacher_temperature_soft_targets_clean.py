import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def make_mlp(in_dim, hidden, n_classes, depth):
    layers, d = [], in_dim
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), nn.ReLU()]
        d = hidden
    layers.append(nn.Linear(d, n_classes))
    return nn.Sequential(*layers)


def load_teacher(cfg):
    torch.manual_seed(123)
    teacher = make_mlp(cfg["in_dim"], 64, cfg["n_classes"], depth=3)
    teacher.requires_grad_(False)
    teacher.eval()
    return teacher


def distillation_loss(student_logits, teacher_logits, labels, temperature, alpha):
    soft_teacher = F.softmax(teacher_logits / temperature, dim=-1)
    log_soft_student = F.log_softmax(student_logits / temperature, dim=-1)
    kd = F.kl_div(log_soft_student, soft_teacher, reduction="batchmean") * temperature ** 2
    ce = F.cross_entropy(student_logits, labels)
    return alpha * kd + (1 - alpha) * ce


def train_one_epoch(fabric, student, teacher, optimizer, loader, cfg, history):
    student.train()
    for x, y in loader:
        with torch.no_grad():
            teacher_logits = teacher(x)
        student_logits = student(x)
        loss = distillation_loss(student_logits, teacher_logits.detach(), y, cfg["temperature"], cfg["alpha"])
        optimizer.zero_grad()
        fabric.backward(loss)
        fabric.clip_gradients(student, optimizer, max_norm=cfg["clip"])
        optimizer.step()
        history.append(loss.item())


@torch.no_grad()
def agreement(student, teacher, loader):
    hits = total = 0
    for x, _ in loader:
        hits += (student(x).argmax(-1) == teacher(x).argmax(-1)).sum().item()
        total += x.shape[0]
    return hits / total


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    cfg = {"in_dim": 10, "n_classes": 4, "temperature": 4.0, "alpha": 0.7, "lr": 3e-3, "clip": 1.0, "epochs": 2}
    teacher = load_teacher(cfg)
    student = make_mlp(cfg["in_dim"], 16, cfg["n_classes"], depth=1)
    optimizer = torch.optim.Adam(student.parameters(), lr=cfg["lr"])
    fstudent, foptimizer = fabric.setup(student, optimizer)
    fteacher = fabric.setup_module(teacher)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, cfg["in_dim"], generator=g)
    y = torch.randint(0, cfg["n_classes"], (64,), generator=g)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True))
    teacher0 = teacher[0].weight.detach().clone()
    student0 = student[0].weight.detach().clone()
    history = []
    for _ in range(cfg["epochs"]):
        train_one_epoch(fabric, fstudent, fteacher, foptimizer, loader, cfg, history)
    fabric.print(f"student/teacher agreement {agreement(fstudent, fteacher, loader):.2f}")
    return {"student": student}, {
        "student_changed": not torch.equal(student0, student[0].weight),
        "teacher_unchanged": torch.equal(teacher0, teacher[0].weight),
    }

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
