import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class SwAVModel(nn.Module):
    def __init__(self, in_dim=20, feat_dim=8, n_prototypes=6):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.projection_head = nn.Linear(32, feat_dim)
        self.prototypes = nn.Linear(feat_dim, n_prototypes, bias=False)

    def forward(self, x):
        z = F.normalize(self.projection_head(self.backbone(x)), dim=1)
        return z, self.prototypes(z)


@torch.no_grad()
def sinkhorn(scores, eps=0.05, iters=3):
    q = torch.exp(scores / eps).t()
    q /= q.sum()
    k, b = q.shape
    for _ in range(iters):
        q /= q.sum(dim=1, keepdim=True)
        q /= k
        q /= q.sum(dim=0, keepdim=True)
        q /= b
    return (q * b).t()


def normalize_prototypes(model):
    with torch.no_grad():
        w = model.prototypes.weight.data.clone()
        w = F.normalize(w, dim=1, p=2)
        model.prototypes.weight.copy_(w)


def swav_loss(scores_a, scores_b, temperature=0.1):
    q_a, q_b = sinkhorn(scores_a), sinkhorn(scores_b)
    p_a, p_b = F.log_softmax(scores_a / temperature, dim=1), F.log_softmax(scores_b / temperature, dim=1)
    return -0.5 * ((q_a * p_b).sum(1).mean() + (q_b * p_a).sum(1).mean())


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = SwAVModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randn(32, 20)), batch_size=8))
    freeze_prototypes_niters = 2
    p0 = model.prototypes.weight.detach().clone()
    for iteration, (x,) in enumerate(loader):
        normalize_prototypes(model)
        _, scores_a = model(x + 0.1 * torch.randn_like(x))
        _, scores_b = model(x + 0.1 * torch.randn_like(x))
        loss = swav_loss(scores_a, scores_b)
        optimizer.zero_grad()
        fabric.backward(loss)
        if iteration < freeze_prototypes_niters:
            for name, p in model.named_parameters():
                if "prototypes" in name:
                    p.grad = None
        optimizer.step()
    return ({"model": model.module},
            {"prototypes_changed": not torch.equal(p0, model.prototypes.weight.detach()), "iterations": iteration + 1})

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
