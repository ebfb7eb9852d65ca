import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def make_encoder(in_dim=16, dim=12):
    return nn.Sequential(nn.Linear(in_dim, 24), nn.ReLU(), nn.Linear(24, dim))


class Projector(nn.Module):
    """Maps teacher features into the student's space (bottleneck of reverse distillation)."""

    def __init__(self, dim=12):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), nn.LayerNorm(dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, x):
        return self.net(x)


def cosine_distill_loss(student, target):
    return (1 - F.cosine_similarity(student, target, dim=-1)).mean()


def train(fabric, teacher, projector, student, opt_proj, opt_distill, loader, accumulation_steps=2):
    teacher.eval()
    for i, (x,) in enumerate(loader):
        with torch.no_grad():
            t_feat = teacher(x)
        loss = cosine_distill_loss(student(projector(t_feat)), t_feat) / accumulation_steps
        fabric.backward(loss)
        if (i + 1) % accumulation_steps == 0:
            opt_proj.zero_grad()
            opt_proj.step()
            opt_distill.step()
            opt_distill.zero_grad()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    teacher, student, projector = make_encoder(), nn.Linear(12, 12), Projector()
    for p in teacher.parameters():
        p.requires_grad_(False)
    opt_proj = torch.optim.Adam(projector.parameters(), lr=1e-2)
    opt_distill = torch.optim.Adam(student.parameters(), lr=1e-2)
    projector, opt_proj = fabric.setup(projector, opt_proj)
    student, opt_distill = fabric.setup(student, opt_distill)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randn(32, 16)), batch_size=4))
    proj_before = projector.module.net[0].weight.detach().clone()
    student_before = student.module.weight.detach().clone()
    train(fabric, teacher, projector, student, opt_proj, opt_distill, loader)
    facts = {"projector_changed": not torch.equal(proj_before, projector.module.net[0].weight),
             "student_changed": not torch.equal(student_before, student.module.weight)}
    return {}, facts

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
