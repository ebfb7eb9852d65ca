import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def conv_net(width):
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1, stride=2), nn.BatchNorm2d(width), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(width, 5),
    )


def load_teacher(width=16):
    teacher = conv_net(width)
    with torch.no_grad():
        for p in teacher.parameters():
            p.mul_(1.5)  # stand-in for loading a stronger checkpoint
    teacher.eval()
    teacher.requires_grad_(False)
    return teacher


class Distiller(pl.LightningModule):
    def __init__(self, teacher, T=4.0, alpha=0.7, lr=1e-2):
        super().__init__()
        self.student = conv_net(8)
        self.teacher = teacher
        self.T, self.alpha, self.lr = T, alpha, lr

    def on_train_epoch_start(self):
        self.teacher.eval()  # Trainer.fit() calls model.train() on every submodule

    def kd_loss(self, s_logits, t_logits, labels):
        soft = F.kl_div(F.log_softmax(s_logits / self.T, -1), F.softmax(t_logits / self.T, -1),
                        reduction="batchmean") * self.T ** 2
        return self.alpha * soft + (1 - self.alpha) * F.cross_entropy(s_logits, labels)

    def training_step(self, batch, batch_idx):
        x, y = batch
        with torch.no_grad():
            t_logits = self.teacher(x)
        loss = self.kd_loss(self.student(x), t_logits, y)
        self.log("kd_loss", loss.detach())
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.student.parameters(), lr=self.lr, momentum=0.9, nesterov=True)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(11)
    data = TensorDataset(torch.randn(24, 3, 8, 8, generator=g), torch.randint(0, 5, (24,), generator=g))
    teacher = load_teacher()
    model = Distiller(teacher)
    s0 = model.student[0].weight.detach().clone()
    t_mean0 = teacher[1].running_mean.clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(data, batch_size=8, shuffle=True))
    return {"student": model.student}, {
        "student_changed": not torch.equal(s0, model.student[0].weight),
        "teacher_stats_unchanged": torch.equal(t_mean0, teacher[1].running_mean),
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
