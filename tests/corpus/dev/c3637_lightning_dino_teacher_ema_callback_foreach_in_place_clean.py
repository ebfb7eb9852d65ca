import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 32))

    def forward(self, x):
        return self.net(x)


class DINOHead(nn.Module):
    def __init__(self, out_dim=24):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(32, 32), nn.GELU(), nn.Linear(32, out_dim))

    def forward(self, x):
        return self.mlp(x)


class MomentumTeacherCallback(pl.Callback):
    def __init__(self, momentum=0.9):
        self.momentum = momentum

    @torch.no_grad()
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        student = list(pl_module.student.parameters())
        teacher = list(pl_module.teacher.parameters())
        torch._foreach_mul_(teacher, self.momentum)
        torch._foreach_add_(teacher, student, alpha=1.0 - self.momentum)


class DINO(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.student = nn.Sequential(Backbone(), DINOHead())
        self.teacher = copy.deepcopy(self.student)
        self.teacher.requires_grad_(False)
        self.register_buffer("center", torch.zeros(1, 24))

    def training_step(self, batch, batch_idx):
        (x,) = batch
        v1, v2 = x + 0.1 * torch.randn_like(x), x + 0.1 * torch.randn_like(x)
        with torch.no_grad():
            t = F.softmax((self.teacher(v2) - self.center) / 0.04, dim=-1)
            self.center.mul_(0.9).add_(0.1 * self.teacher(v2).mean(0, keepdim=True))
        s = F.log_softmax(self.student(v1) / 0.1, dim=-1)
        return -(t * s).sum(-1).mean()

    def configure_optimizers(self):
        return torch.optim.AdamW(self.student.parameters(), lr=1e-3)


def main():
    pl.seed_everything(0)
    loader = DataLoader(TensorDataset(torch.randn(32, 16)), batch_size=8, shuffle=True)
    model = DINO()
    s0 = model.student[0].net[0].weight.detach().clone()
    t0 = model.teacher[0].net[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, callbacks=[MomentumTeacherCallback()]).fit(model, loader)
    return {"student": model.student}, {
        "student_changed": not torch.equal(s0, model.student[0].net[0].weight),
        "teacher_changed": not torch.equal(t0, model.teacher[0].net[0].weight),
        "teacher_grad_is_none": model.teacher[0].net[0].weight.grad is None,
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
