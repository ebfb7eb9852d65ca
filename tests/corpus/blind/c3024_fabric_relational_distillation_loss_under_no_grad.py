import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def pdist(e, eps=1e-12):
    prod = e @ e.T
    sq = prod.diag()
    return (sq[None] + sq[:, None] - 2 * prod).clamp(min=eps).sqrt()


class RKDAngleDistance(nn.Module):
    """Relational knowledge distillation: match pairwise distances and triplet angles of embeddings."""

    def forward(self, student, teacher):
        with torch.no_grad():
            t_d = pdist(teacher)
            t_d = t_d / t_d[t_d > 0].mean()
            td = F.normalize(teacher[None] - teacher[:, None], p=2, dim=2)
            t_angle = torch.bmm(td, td.transpose(1, 2)).view(-1)
            s_d = pdist(student)
            s_d = s_d / s_d[s_d > 0].mean()
            sd = F.normalize(student[None] - student[:, None], p=2, dim=2)
            s_angle = torch.bmm(sd, sd.transpose(1, 2)).view(-1)
        return F.smooth_l1_loss(s_d, t_d) + 2 * F.smooth_l1_loss(s_angle, t_angle)


class Embedder(nn.Module):
    def __init__(self, width, dim=8):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, width, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.embedding = nn.Linear(width, dim)

    def forward(self, x):
        return self.embedding(self.backbone(x))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    teacher = Embedder(width=16).eval().requires_grad_(False)
    student = Embedder(width=4)
    classifier = nn.Linear(4, 5)
    criterion = RKDAngleDistance()
    optimizer = torch.optim.Adam(list(student.parameters()) + list(classifier.parameters()), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    student, optimizer = fabric.setup(student, optimizer)
    g = torch.Generator().manual_seed(0)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randn(24, 3, 8, 8, generator=g),
                                                               torch.randint(0, 5, (24,), generator=g)),
                                                 batch_size=8, shuffle=True, generator=g))
    emb0 = student.embedding.weight.detach().clone()
    for epoch in range(2):
        for x, y in loader:
            with torch.no_grad():
                t_emb = teacher(x)
            s_emb = student(x)
            logits = classifier(student.backbone(x))
            loss = F.cross_entropy(logits, y) + criterion(s_emb, t_emb)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            scheduler.step()
    return {"student": student.module, "classifier": classifier}, {"embedding_changed": not torch.equal(emb0, student.embedding.weight)}

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
