import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PointSegNet(nn.Module):
    def __init__(self, n_in=4, width=24, n_classes=3):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(n_in, width), nn.BatchNorm1d(width), nn.ReLU(),
                                 nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU())
        self.cls = nn.Linear(width, n_classes)

    def forward(self, pts):
        return self.cls(self.mlp(pts))


class MomentumUpdater:
    def __init__(self, tau=0.99):
        self.cur_tau = tau

    @torch.no_grad()
    def update(self, online_net, momentum_net):
        for op, mp in zip(online_net.parameters(), momentum_net.parameters()):
            mp.data.mul_(self.cur_tau)
            mp.data.add_(op.data * (1 - self.cur_tau))
        for ob, mb in zip(online_net.buffers(), momentum_net.buffers()):
            if ob.is_floating_point():
                mb.mul_(self.cur_tau).add_(ob * (1 - self.cur_tau))
            else:
                mb.copy_(ob)


def mix_domains(src_pts, src_lbl, tgt_pts, tgt_pseudo, generator):
    keep = torch.rand(src_pts.size(0), generator=generator) < 0.5
    return torch.where(keep[:, None], src_pts, tgt_pts), torch.where(keep, src_lbl, tgt_pseudo)


def make_loader(n=160):
    g = torch.Generator().manual_seed(79)
    src = torch.randn(n, 4, generator=g)
    src_lbl = src[:, :3].argmax(dim=1)
    tgt = src[torch.randperm(n, generator=g)] * 1.2 + 0.3
    return DataLoader(TensorDataset(src, src_lbl, tgt), batch_size=32, shuffle=True, generator=g)


def train_uda(student, teacher, loader, optimizer, updater, epochs=2):
    g = torch.Generator().manual_seed(2)
    for _ in range(epochs):
        for src, src_lbl, tgt in loader:
            student.train()
            teacher.train()
            with torch.no_grad():
                pseudo = teacher(tgt).argmax(dim=1)
            mixed, mixed_lbl = mix_domains(src, src_lbl, tgt, pseudo, g)
            loss = F.cross_entropy(student(mixed), mixed_lbl)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            updater.update(student.module, teacher)


def main():
    torch.manual_seed(0)
    net = PointSegNet()
    teacher = copy.deepcopy(net)
    for p in teacher.parameters():
        p.requires_grad_(False)
    student = nn.DataParallel(net)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    s0, t0 = net.cls.weight.detach().clone(), teacher.cls.weight.detach().clone()
    rm0 = teacher.mlp[1].running_mean.clone()
    train_uda(student, teacher, make_loader(), optimizer, MomentumUpdater())
    return ({"student": net},
            {"student_changed": not torch.equal(s0, net.cls.weight),
             "teacher_changed": not torch.equal(t0, teacher.cls.weight),
             "teacher_bn_stats_changed": not torch.equal(rm0, teacher.mlp[1].running_mean)})

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
