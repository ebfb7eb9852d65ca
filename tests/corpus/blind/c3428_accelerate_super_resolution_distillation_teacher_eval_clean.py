import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SRNet(nn.Module):
    def __init__(self, width, scale=2):
        super().__init__()
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(width, width, 3, padding=1))
        self.up = nn.Sequential(nn.Conv2d(width, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))

    def forward(self, lr_img, return_features=False):
        feat = self.head(lr_img)
        feat = feat + self.body(feat)
        out = self.up(feat)
        return (out, feat) if return_features else out


def build_teacher():
    teacher = SRNet(width=16)
    teacher.eval()
    return teacher


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(34)
    hr = torch.rand(16, 3, 8, 8, generator=g)
    lr = F.avg_pool2d(hr, 2)
    teacher = build_teacher()
    student = SRNet(width=16)
    adapter = nn.Conv2d(16, 16, 1)
    params = list(student.parameters()) + list(adapter.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3)
    loader = DataLoader(TensorDataset(lr, hr), batch_size=4, shuffle=True)
    student, adapter, optimizer, loader = accelerator.prepare(student, adapter, optimizer, loader)
    t0 = teacher.head.weight.detach().clone()
    s0 = student.head.weight.detach().clone()
    for epoch in range(2):
        student.train()
        for lr_b, hr_b in loader:
            with torch.no_grad():
                _, t_feat = teacher(lr_b, return_features=True)
            sr, s_feat = student(lr_b, return_features=True)
            loss = F.l1_loss(sr, hr_b) + 0.1 * F.mse_loss(adapter(s_feat), t_feat)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
    return {"student": student, "adapter": adapter}, {
        "student_changed": not torch.equal(s0, student.head.weight),
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
