import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def make_classifier(in_dim=16, hidden=32, n_classes=4):
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(0.2), nn.Linear(hidden, n_classes))


class MeanTeacher(pl.LightningModule):
    def __init__(self, ema_decay=0.99, consistency=1.0, lr=1e-2):
        super().__init__()
        self.student = make_classifier()
        self.teacher = copy.deepcopy(self.student)
        self.teacher.requires_grad_(False)
        self.ema_decay, self.consistency, self.lr = ema_decay, consistency, lr

    def training_step(self, batch, batch_idx):
        x, y, labeled = batch
        noisy = x + 0.1 * torch.randn_like(x)
        student_logits = self.student(noisy)
        with torch.no_grad():
            teacher_probs = self.teacher(x).softmax(dim=-1)
        sup = F.cross_entropy(student_logits[labeled], y[labeled]) if labeled.any() else student_logits.sum() * 0
        cons = F.mse_loss(student_logits.softmax(dim=-1), teacher_probs)
        loss = sup + self.consistency * cons
        self.log_dict({"sup": sup.item(), "cons": cons.item()})
        return loss

    @torch.no_grad()
    def on_train_batch_end(self, outputs, batch, batch_idx):
        for s, t in zip(self.student.parameters(), self.teacher.parameters()):
            t.mul_(self.ema_decay).add_(s.detach(), alpha=1 - self.ema_decay)

    def configure_optimizers(self):
        return torch.optim.SGD(self.student.parameters(), lr=self.lr, momentum=0.9)


def make_loader(n=96, in_dim=16, n_classes=4):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, n_classes, (n,), generator=g)
    x = torch.randn(n_classes, in_dim, generator=g)[y] + 0.5 * torch.randn(n, in_dim, generator=g)
    labeled = torch.rand(n, generator=g) < 0.3
    return DataLoader(TensorDataset(x, y, labeled), batch_size=32, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = MeanTeacher()
    t_before = model.teacher[0].weight.detach().clone()
    s_before = model.student[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, limit_train_batches=3, logger=False).fit(model, make_loader())
    return {"student": model.student}, {
        "student_changed": not torch.equal(s_before, model.student[0].weight),
        "teacher_changed": not torch.equal(t_before, model.teacher[0].weight),
        "teacher_grad_is_none": all(p.grad is None for p in model.teacher.parameters()),
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
