import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class PatchTST(nn.Module):
    """Channel-independent patch transformer forecaster."""

    def __init__(self, lookback=16, patch=4, d=32, horizon=4, layers=2):
        super().__init__()
        self.patch = patch
        self.embed = nn.Linear(patch, d)
        self.pos = nn.Parameter(torch.zeros(lookback // patch, d))
        layer = nn.TransformerEncoderLayer(d, 2, 2 * d, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(d * lookback // patch, horizon)

    def forward(self, x):  # (B, L, C)
        b, l, c = x.shape
        mean, std = x.mean(1, keepdim=True), x.std(1, keepdim=True) + 1e-5
        x = ((x - mean) / std).permute(0, 2, 1).reshape(b * c, l // self.patch, self.patch)
        h = self.encoder(self.embed(x) + self.pos)
        y = self.head(h.flatten(1)).view(b, c, -1).permute(0, 2, 1)
        return y * std + mean


class LinearStudent(nn.Module):
    def __init__(self, lookback=16, horizon=4):
        super().__init__()
        self.lin = nn.Linear(lookback, horizon)

    def forward(self, x):
        mean = x.mean(1, keepdim=True)
        return self.lin((x - mean).transpose(1, 2)).transpose(1, 2) + mean


def freeze(module):
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def distill_epoch(student, teacher, loader, optimizer, accelerator, alpha):
    student.train()
    log = []
    for x, y in loader:
        with torch.no_grad():
            y_teacher = teacher(x)
        y_student = student(x)
        loss = alpha * F.mse_loss(y_student, y_teacher) + (1 - alpha) * F.l1_loss(y_student, y)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        log.append(loss.item())
    return sum(log) / len(log)


def windows(n=48, lookback=16, horizon=4, channels=2):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(lookback + horizon).float()
    series = torch.sin(t[None, :, None] * 0.5 + torch.rand(n, 1, channels, generator=g) * 6) + 0.1 * torch.randn(n, lookback + horizon, channels, generator=g)
    return DataLoader(TensorDataset(series[:, :lookback], series[:, lookback:]), batch_size=16, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    teacher = freeze(PatchTST())
    student = LinearStudent()
    optimizer = torch.optim.Adam(student.parameters(), lr=1e-2)
    student, teacher, optimizer, loader = accelerator.prepare(student, teacher, optimizer, windows())
    s0 = student.lin.weight.detach().clone()
    t0 = teacher.head.weight.detach().clone()
    for _ in range(2):
        distill_epoch(student, teacher, loader, optimizer, accelerator, alpha=0.7)
    return {"student": student}, {
        "student_changed": not torch.equal(s0, student.lin.weight),
        "teacher_unchanged": torch.equal(t0, teacher.head.weight),
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
