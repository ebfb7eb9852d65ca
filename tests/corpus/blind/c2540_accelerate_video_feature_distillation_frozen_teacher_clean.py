import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class FrameEncoder(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv3d(3, width, (1, 3, 3), padding=(0, 1, 1)), nn.ReLU(),
                                  nn.Conv3d(width, width, (3, 3, 3), padding=1), nn.ReLU())

    def forward(self, clip):
        return self.conv(clip).mean((3, 4)).transpose(1, 2)


class VideoTeacher(nn.Module):
    def __init__(self, width=24, dim=16):
        super().__init__()
        self.enc = FrameEncoder(width)
        self.proj = nn.Linear(width, dim)

    def forward(self, clip):
        return self.proj(self.enc(clip))


class VideoStudent(nn.Module):
    def __init__(self, width=8, dim=16):
        super().__init__()
        self.enc = FrameEncoder(width)
        self.temporal = nn.GRU(width, width, batch_first=True)
        self.proj = nn.Linear(width, dim)

    def forward(self, clip):
        h, _ = self.temporal(self.enc(clip))
        return self.proj(h)


def freeze(module):
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def distill(accelerator, student, teacher, optimizer, scheduler, loader, epochs=2):
    for _ in range(epochs):
        student.train()
        for (clips,) in loader:
            with torch.no_grad():
                target = F.normalize(teacher(clips), dim=-1)
            pred = F.normalize(student(clips), dim=-1)
            loss = (2 - 2 * (pred * target).sum(-1)).mean()
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    teacher = freeze(VideoTeacher())
    student = VideoStudent()
    optimizer = torch.optim.AdamW(student.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.2, total_iters=3)
    clips = torch.rand(8, 3, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    loader = DataLoader(TensorDataset(clips), batch_size=4, shuffle=True)
    student, optimizer, loader, scheduler = accelerator.prepare(student, optimizer, loader, scheduler)
    teacher = accelerator.prepare_model(teacher, evaluation_mode=True)
    before = student.temporal.weight_ih_l0.detach().clone()
    distill(accelerator, student, teacher, optimizer, scheduler, loader)
    changed = not torch.equal(before, student.temporal.weight_ih_l0)
    return {"student": student, "teacher": teacher}, {"student_changed": changed}

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
