import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

CFG = {
    "in_dim": 24, "embed": 32, "out_dim": 64, "bottleneck": 16, "n_local": 2,
    "student_temp": 0.1, "teacher_temp": 0.04, "center_momentum": 0.9, "momentum_teacher": 0.99,
    "lr": 1e-3, "weight_decay": 0.04, "clip_grad": 3.0, "epochs": 2,
}


class Backbone(nn.Module):
    def __init__(self, in_dim, embed):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, embed), nn.GELU(), nn.LayerNorm(embed), nn.Linear(embed, embed))

    def forward(self, x):
        return self.net(x)


class DINOHead(nn.Module):
    def __init__(self, in_dim, out_dim, bottleneck):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, 64), nn.GELU(), nn.Linear(64, bottleneck))
        self.last_layer = nn.Linear(bottleneck, out_dim, bias=False)

    def forward(self, x):
        return self.last_layer(F.normalize(self.mlp(x), dim=-1))


class MultiCropWrapper(nn.Module):
    def __init__(self, backbone, head):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, crops):
        return self.head(self.backbone(torch.cat(crops)))


class DINOLoss(nn.Module):
    def __init__(self, out_dim, ncrops, cfg):
        super().__init__()
        self.ncrops, self.cfg = ncrops, cfg
        self.register_buffer("center", torch.zeros(1, out_dim))

    def forward(self, student_out, teacher_out):
        s = (student_out / self.cfg["student_temp"]).chunk(self.ncrops)
        t = F.softmax((teacher_out - self.center) / self.cfg["teacher_temp"], dim=-1).detach().chunk(2)
        total, n = 0.0, 0
        for iq, q in enumerate(t):
            for v in range(self.ncrops):
                if v == iq:
                    continue
                total = total + torch.sum(-q * F.log_softmax(s[v], dim=-1), dim=-1).mean()
                n += 1
        self.update_center(teacher_out)
        return total / n

    @torch.no_grad()
    def update_center(self, teacher_out):
        batch_center = teacher_out.mean(dim=0, keepdim=True)
        self.center.mul_(self.cfg["center_momentum"]).add_(batch_center, alpha=1 - self.cfg["center_momentum"])


def multi_crop(x, n_local):
    g = [x + 0.05 * torch.randn_like(x) for _ in range(2)]
    l = [x * (torch.rand_like(x) > 0.3) for _ in range(n_local)]
    return g, l


def train_one_epoch(student, teacher, dino_loss, loader, optimizer, accelerator, cfg):
    for (x,) in loader:
        global_crops, local_crops = multi_crop(x, cfg["n_local"])
        with torch.no_grad():
            teacher_out = teacher(global_crops)
        student_out = student(global_crops + local_crops)
        loss = dino_loss(student_out, teacher_out)
        optimizer.zero_grad()
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(student.parameters(), cfg["clip_grad"])
        optimizer.step()
        with torch.no_grad():
            m = cfg["momentum_teacher"]
            for ps, pt in zip(student.parameters(), teacher.parameters()):
                pt.data.mul_(m).add_((1 - m) * ps.detach().data)


def main():
    set_seed(0)
    accelerator = Accelerator()
    student = MultiCropWrapper(Backbone(CFG["in_dim"], CFG["embed"]), DINOHead(CFG["embed"], CFG["out_dim"], CFG["bottleneck"]))
    teacher = copy.deepcopy(student)
    for p in teacher.parameters():
        p.requires_grad = False
    dino_loss = DINOLoss(CFG["out_dim"], 2 + CFG["n_local"], CFG)
    optimizer = torch.optim.AdamW(student.parameters(), lr=CFG["lr"], weight_decay=CFG["weight_decay"])
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(32, CFG["in_dim"], generator=g)), batch_size=8, shuffle=True)
    student, optimizer, loader = accelerator.prepare(student, optimizer, loader)
    s0 = student.backbone.net[0].weight.detach().clone()
    t0 = teacher.backbone.net[0].weight.detach().clone()
    for _ in range(CFG["epochs"]):
        train_one_epoch(student, teacher, dino_loss, loader, optimizer, accelerator, CFG)
    return {"student": student}, {
        "student_changed": not torch.equal(s0, student.backbone.net[0].weight),
        "teacher_changed": not torch.equal(t0, teacher.backbone.net[0].weight),
        "center_updated": bool(dino_loss.center.abs().sum() > 0),
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
