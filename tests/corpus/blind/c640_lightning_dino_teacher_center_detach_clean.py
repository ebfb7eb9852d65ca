import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def projector(in_dim=16, hidden=32, out_dim=12):
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, out_dim))


class DINO(pl.LightningModule):
    def __init__(self, out_dim=12, student_temp=0.1, teacher_temp=0.04, center_momentum=0.9, ema=0.99):
        super().__init__()
        self.student = projector(out_dim=out_dim)
        self.teacher = copy.deepcopy(self.student).requires_grad_(False)
        self.register_buffer("center", torch.zeros(1, out_dim))
        self.st, self.tt, self.cm, self.ema = student_temp, teacher_temp, center_momentum, ema

    def augment(self, x):
        return x * (1 + 0.1 * torch.randn_like(x)) + 0.05 * torch.randn_like(x)

    def training_step(self, batch, batch_idx):
        (x,) = batch
        v1, v2 = self.augment(x), self.augment(x)
        s1, s2 = self.student(v1), self.student(v2)
        t1, t2 = self.teacher(v1).detach(), self.teacher(v2).detach()
        loss = 0.0
        for t, s in ((t1, s2), (t2, s1)):
            p_t = F.softmax((t - self.center) / self.tt, dim=-1)
            loss = loss + torch.sum(-p_t * F.log_softmax(s / self.st, dim=-1), dim=-1).mean() / 2
        self.update_center(torch.cat([t1, t2]))
        return loss

    @torch.no_grad()
    def update_center(self, teacher_out):
        self.center.mul_(self.cm).add_(teacher_out.mean(dim=0, keepdim=True), alpha=1 - self.cm)

    @torch.no_grad()
    def on_train_batch_end(self, outputs, batch, batch_idx):
        for ps, pt in zip(self.student.parameters(), self.teacher.parameters()):
            pt.data.mul_(self.ema).add_(ps.data, alpha=1 - self.ema)

    def configure_optimizers(self):
        return torch.optim.AdamW(self.student.parameters(), lr=1e-3, weight_decay=0.04)


def main():
    pl.seed_everything(0)
    x = torch.randn(48, 16, generator=torch.Generator().manual_seed(0))
    model = DINO()
    s_before = model.student[0].weight.detach().clone()
    t_before = model.teacher[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False).fit(model, DataLoader(TensorDataset(x), batch_size=16))
    return {"student": model.student}, {"student_changed": not torch.equal(s_before, model.student[0].weight),
                                        "teacher_changed": not torch.equal(t_before, model.teacher[0].weight),
                                        "center_nonzero": bool(model.center.abs().sum() > 0)}

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
