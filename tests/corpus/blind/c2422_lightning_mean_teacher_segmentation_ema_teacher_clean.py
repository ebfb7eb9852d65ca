import copy
import math

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TinyUNet(nn.Module):
    def __init__(self, ch=8, n_classes=2):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(ch, 2 * ch, 3, stride=2, padding=1), nn.BatchNorm2d(2 * ch), nn.ReLU())
        self.up = nn.ConvTranspose2d(2 * ch, ch, 2, stride=2)
        self.dec = nn.Sequential(nn.Conv2d(2 * ch, ch, 3, padding=1), nn.ReLU(), nn.Dropout2d(0.1), nn.Conv2d(ch, n_classes, 1))

    def forward(self, x):
        e1 = self.enc1(x)
        return self.dec(torch.cat([e1, self.up(self.enc2(e1))], dim=1))


def sigmoid_rampup(step, length=20):
    phase = 1.0 - min(step, length) / length
    return float(math.exp(-5.0 * phase * phase))


class MeanTeacherSeg(pl.LightningModule):
    def __init__(self, ema_decay=0.99, consistency=0.1):
        super().__init__()
        self.student = TinyUNet()
        self.teacher = copy.deepcopy(self.student)
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.ema_decay, self.consistency = ema_decay, consistency

    def training_step(self, batch, batch_idx):
        images, masks, labeled = batch
        student_logits = self.student(images)
        sup = F.cross_entropy(student_logits[labeled], masks[labeled]) if labeled.any() else student_logits.sum() * 0
        noisy = images + torch.clamp(torch.randn_like(images) * 0.1, -0.2, 0.2)
        with torch.no_grad():
            teacher_logits = self.teacher(noisy)
        cons = F.mse_loss(student_logits.softmax(1), teacher_logits.softmax(1))
        loss = sup + self.consistency * sigmoid_rampup(self.global_step) * cons
        self.log_dict({"sup": sup.item(), "cons": cons.item()})
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx):
        alpha = min(1 - 1 / (self.global_step + 1), self.ema_decay)
        with torch.no_grad():
            for t, s in zip(self.teacher.parameters(), self.student.parameters()):
                t.mul_(alpha).add_(s.detach(), alpha=1 - alpha)

    def configure_optimizers(self):
        return torch.optim.SGD(self.student.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)


def main():
    pl.seed_everything(0)
    images = torch.randn(16, 1, 16, 16)
    masks = (images[:, 0] > 0.5).long()
    labeled = torch.arange(16) % 4 == 0
    model = MeanTeacherSeg()
    t0 = model.teacher.dec[-1].weight.clone()
    loader = DataLoader(TensorDataset(images, masks, labeled), batch_size=8, shuffle=True)
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"student": model.student, "teacher": model.teacher},
            {"teacher_changed": not torch.equal(t0, model.teacher.dec[-1].weight)})

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
