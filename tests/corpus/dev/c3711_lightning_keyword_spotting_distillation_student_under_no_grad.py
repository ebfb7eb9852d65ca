import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class KWSNet(nn.Module):
    """1-D conv keyword spotter over log-mel frames (channels = mel bins)."""

    def __init__(self, n_mels=10, width=16, n_keywords=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(n_mels, width, 3, padding=1), nn.BatchNorm1d(width), nn.ReLU(),
            nn.Conv1d(width, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool1d(1))
        self.classifier = nn.Linear(width, n_keywords)

    def forward(self, mel):
        return self.classifier(self.features(mel).squeeze(-1))


def distillation_loss(student_logits, teacher_logits, labels, T=4.0, alpha=0.7):
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=-1), F.softmax(teacher_logits / T, dim=-1),
                    reduction="batchmean") * T * T
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


class DistillKWS(pl.LightningModule):
    def __init__(self, teacher, student, lr=1e-3):
        super().__init__()
        self.teacher = teacher
        self.student = student
        self.teacher.eval()
        self.teacher.requires_grad_(False)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        mel, labels = batch
        with torch.no_grad():
            teacher_logits = self.teacher(mel)
            student_logits = self.student(mel)
        loss = distillation_loss(student_logits, teacher_logits, labels)
        self.log("kd_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.student.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    mel = torch.randn(32, 10, 20)
    labels = torch.randint(0, 4, (32,))
    loader = DataLoader(TensorDataset(mel, labels), batch_size=8, shuffle=True)
    teacher = KWSNet(width=32)
    student = KWSNet(width=8)
    module = DistillKWS(teacher, student)
    pl.Trainer(max_epochs=1, logger=False).fit(module, loader)
    return {"student": student}

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
