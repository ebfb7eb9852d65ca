import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def mlp(sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class RunningMeans:
    def __init__(self):
        self.values = {}

    def update(self, **terms):
        for name, value in terms.items():
            old = self.values.get(name, value.detach())
            self.values[name] = 0.9 * old + 0.1 * value.detach()
        return {k: float(v) for k, v in self.values.items()}


class DistillationModule(pl.LightningModule):
    def __init__(self, teacher, temperature=3.0, alpha=0.7, lr=1e-2):
        super().__init__()
        self.teacher = teacher
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        self.student = mlp([10, 16, 4])
        self.temperature, self.alpha, self.lr = temperature, alpha, lr
        self.meters = RunningMeans()

    def kd_loss(self, student_logits, teacher_logits):
        t = self.temperature
        return F.kl_div(F.log_softmax(student_logits / t, dim=-1), F.softmax(teacher_logits / t, dim=-1),
                        reduction="batchmean") * t * t

    def training_step(self, batch, batch_idx):
        x, y = batch
        with torch.no_grad():
            teacher_logits = self.teacher(x)
        student_logits = self.student(x)
        hard = F.cross_entropy(student_logits, y)
        soft = self.kd_loss(student_logits, teacher_logits)
        loss = self.alpha * soft + (1 - self.alpha) * hard
        self.log_dict(self.meters.update(hard=hard, soft=soft))
        return loss

    def on_train_epoch_start(self):
        self.teacher.eval()

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.student.parameters(), lr=self.lr, momentum=0.9, nesterov=True)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)}


def pretrain_teacher(x, y, steps=30):
    teacher = mlp([10, 32, 32, 4])
    opt = torch.optim.Adam(teacher.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(teacher(x), y).backward()
        opt.step()
    opt.zero_grad(set_to_none=True)
    return teacher


def make_data(n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 10, generator=g)
    y = (x[:, :4] + 0.2 * torch.randn(n, 4, generator=g)).argmax(dim=1)
    return x, y


def main():
    pl.seed_everything(0)
    x, y = make_data()
    teacher = pretrain_teacher(x, y)
    module = DistillationModule(teacher)
    student_before = module.student[0].weight.detach().clone()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    pl.Trainer(max_epochs=2, logger=False).fit(module, loader)
    facts = {"student_changed": not torch.equal(student_before, module.student[0].weight),
             "teacher_has_grad": any(p.grad is not None for p in module.teacher.parameters())}
    return {"student": module.student}, facts

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
