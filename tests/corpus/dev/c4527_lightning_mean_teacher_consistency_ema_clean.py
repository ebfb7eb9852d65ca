import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

HP = {"num_classes": 3, "ema_decay": 0.95, "consistency": 2.0, "rampup_steps": 4, "noise": 0.15, "lr": 5e-3}


class ConvNet(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dropout = nn.Dropout(0.2)
        self.classifier = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.classifier(self.dropout(self.features(x)))


def gaussian_noise(x, std):
    return x + std * torch.randn_like(x)


def sigmoid_rampup(step, length):
    if length == 0:
        return 1.0
    phase = 1.0 - min(step, length) / length
    return float(torch.exp(torch.tensor(-5.0 * phase * phase)))


class MeanTeacher(pl.LightningModule):
    def __init__(self, hp):
        super().__init__()
        self.hp = hp
        self.student = ConvNet(hp["num_classes"])
        self.teacher = copy.deepcopy(self.student)
        for p in self.teacher.parameters():
            p.requires_grad_(False)

    def training_step(self, batch, batch_idx):
        x_l, y_l, x_u = batch
        logits_l = self.student(gaussian_noise(x_l, self.hp["noise"]))
        logits_u = self.student(gaussian_noise(x_u, self.hp["noise"]))
        with torch.no_grad():
            teacher_u = self.teacher(gaussian_noise(x_u, self.hp["noise"]))
        class_loss = F.cross_entropy(logits_l, y_l)
        cons_loss = F.mse_loss(torch.softmax(logits_u, -1), torch.softmax(teacher_u, -1).detach())
        weight = self.hp["consistency"] * sigmoid_rampup(self.global_step, self.hp["rampup_steps"])
        loss = class_loss + weight * cons_loss
        self.log_dict({"loss/class": class_loss.item(), "loss/cons": cons_loss.item()})
        return loss

    @torch.no_grad()
    def update_teacher(self):
        alpha = min(1 - 1 / (self.global_step + 1), self.hp["ema_decay"])
        for t, s in zip(self.teacher.parameters(), self.student.parameters()):
            t.mul_(alpha).add_(s.detach(), alpha=1 - alpha)
        for tb, sb in zip(self.teacher.buffers(), self.student.buffers()):
            tb.copy_(sb)

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.update_teacher()

    def configure_optimizers(self):
        return torch.optim.SGD(self.student.parameters(), lr=self.hp["lr"], momentum=0.9, nesterov=True)


def semi_supervised_loader(n=16):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % HP["num_classes"]
    x_l = torch.randn(n, 1, 12, 12, generator=g) + y.view(-1, 1, 1, 1).float()
    x_u = torch.randn(n, 1, 12, 12, generator=g) + (torch.arange(n) % 3).view(-1, 1, 1, 1).float()
    return DataLoader(TensorDataset(x_l, y, x_u), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = MeanTeacher(HP)
    s0 = model.student.features[0].weight.detach().clone()
    t0 = model.teacher.features[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, semi_supervised_loader())
    return {"student": model.student}, {
        "student_changed": not torch.equal(s0, model.student.features[0].weight),
        "teacher_changed": not torch.equal(t0, model.teacher.features[0].weight),
        "teacher_grads_none": all(p.grad is None for p in model.teacher.parameters()),
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
