import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 20, "classes": 4, "hint_weight": 0.5, "lr": 5e-3, "regressor_lr": 2e-2, "epochs": 2}


class TeacherNet(nn.Module):
    def __init__(self, in_dim, classes):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, 64), nn.ReLU(), nn.Linear(64, 48), nn.ReLU())
        self.head = nn.Linear(48, classes)

    def forward(self, x):
        feat = self.body(x)
        return self.head(feat), feat


class FitNetStudent(nn.Module):
    """Thin student plus the FitNets regressor mapping its hint layer onto the teacher's guided layer."""

    def __init__(self, in_dim, classes):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, 24), nn.ReLU(), nn.Linear(24, 16), nn.ReLU())
        self.head = nn.Linear(16, classes)
        self.regressor = nn.Linear(16, 48)

    def forward(self, x):
        feat = self.body(x)
        return self.head(feat), feat


def hint_loss(regressor, s_feat, t_feat):
    return F.mse_loss(regressor(s_feat).detach(), t_feat)


def build_optimizer(model, cfg):
    net = model.module
    return torch.optim.Adam([
        {"params": list(net.body.parameters()) + list(net.head.parameters()), "lr": cfg["lr"]},
        {"params": net.regressor.parameters(), "lr": cfg["regressor_lr"]},
    ])


def train(student, teacher, loader, optimizer, cfg):
    student.train()
    teacher.eval()
    for epoch in range(cfg["epochs"]):
        for x, y in loader:
            with torch.no_grad():
                _, t_feat = teacher(x)
            logits, s_feat = student(x)
            loss = F.cross_entropy(logits, y) + cfg["hint_weight"] * hint_loss(student.module.regressor, s_feat, t_feat)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, CFG["in_dim"], generator=g)
    y = x[:, :CFG["classes"]].argmax(1)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    teacher = TeacherNet(CFG["in_dim"], CFG["classes"]).requires_grad_(False)
    student = nn.DataParallel(FitNetStudent(CFG["in_dim"], CFG["classes"]))
    optimizer = build_optimizer(student, CFG)
    r0, b0 = student.module.regressor.weight.detach().clone(), student.module.body[0].weight.detach().clone()
    train(student, teacher, loader, optimizer, CFG)
    return {"student": student.module}, {
        "regressor_changed": not torch.equal(r0, student.module.regressor.weight),
        "student_body_changed": not torch.equal(b0, student.module.body[0].weight),
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
