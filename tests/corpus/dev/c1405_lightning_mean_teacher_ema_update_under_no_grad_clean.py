import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, in_dim=12, hidden=24):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, hidden), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class Classifier(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(24, n_classes)

    def forward(self, x):
        return self.head(self.encoder(x))


class MeanTeacher(pl.LightningModule):
    def __init__(self, ema_decay=0.9, consistency=1.0):
        super().__init__()
        self.student = Classifier()
        self.teacher = copy.deepcopy(self.student)
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.ema_decay, self.consistency = ema_decay, consistency

    def training_step(self, batch, batch_idx):
        x, y, labeled = batch
        noisy = x + 0.1 * torch.randn_like(x)
        student_logits = self.student(noisy)
        with torch.no_grad():
            teacher_probs = F.softmax(self.teacher(x), dim=-1)
        sup = F.cross_entropy(student_logits[labeled], y[labeled]) if labeled.any() else student_logits.sum() * 0
        cons = F.mse_loss(F.softmax(student_logits, dim=-1), teacher_probs)
        loss = sup + self.consistency * cons
        self.log("loss", loss)
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx):
        with torch.no_grad():
            for t, s in zip(self.teacher.parameters(), self.student.parameters()):
                t.mul_(self.ema_decay).add_(s, alpha=1 - self.ema_decay)

    def configure_optimizers(self):
        return torch.optim.Adam(self.student.parameters(), lr=1e-2)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(48, 12, generator=g)
    y = torch.randint(0, 3, (48,), generator=g)
    labeled = torch.rand(48, generator=g) < 0.4
    loader = DataLoader(TensorDataset(x, y, labeled), batch_size=12, shuffle=True, generator=g)
    model = MeanTeacher()
    teacher0 = model.teacher.head.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"student": model.student}, {"teacher_changed": not torch.equal(teacher0, model.teacher.head.weight)}

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
