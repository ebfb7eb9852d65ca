import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class KWSNet(nn.Module):
    def __init__(self, n_mels=16, channels=16, n_keywords=5):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, channels, 3, padding=1), nn.BatchNorm1d(channels), nn.ReLU(),
                                  nn.Conv1d(channels, channels, 3, padding=1), nn.ReLU())
        self.classifier = nn.Linear(channels, n_keywords)

    def forward(self, mels):
        return self.classifier(self.conv(mels).mean(-1))


class Distiller:
    def __init__(self, teacher, temperature=2.0, alpha=0.7):
        self.teacher = teacher.eval()
        self.teacher.requires_grad_(False)
        self.T, self.alpha = temperature, alpha

    def teacher_probs(self, mels):
        with torch.inference_mode():
            return F.softmax(self.teacher(mels) / self.T, dim=-1)

    def loss(self, student_logits, mels, labels):
        soft = F.kl_div(F.log_softmax(student_logits / self.T, dim=-1), self.teacher_probs(mels),
                        reduction="batchmean") * self.T ** 2
        return self.alpha * soft + (1 - self.alpha) * F.cross_entropy(student_logits, labels)


def make_loader():
    g = torch.Generator().manual_seed(11)
    mels = torch.randn(40, 16, 12, generator=g)
    labels = torch.randint(0, 5, (40,), generator=g)
    return DataLoader(TensorDataset(mels, labels), batch_size=8, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    teacher, student = KWSNet(channels=32), KWSNet(channels=8)
    optimizer = torch.optim.AdamW(student.parameters(), lr=1e-3)
    student, optimizer, loader = accelerator.prepare(student, optimizer, make_loader())
    distiller = Distiller(teacher)
    student.train()
    for mels, labels in loader:
        optimizer.zero_grad()
        loss = distiller.loss(student(mels), mels, labels)
        accelerator.backward(loss)
        optimizer.step()
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
