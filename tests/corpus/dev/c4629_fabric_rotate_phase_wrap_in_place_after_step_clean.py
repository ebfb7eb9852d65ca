import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric

KGE = {"entities": 30, "relations": 4, "dim": 8, "gamma": 6.0, "lr": 0.05, "epochs": 4, "batch": 16, "neg": 4}


class RotatE(nn.Module):
    def __init__(self, n_ent, n_rel, dim, gamma):
        super().__init__()
        self.dim, self.gamma = dim, gamma
        self.entity = nn.Embedding(n_ent, 2 * dim)
        self.relation = nn.Embedding(n_rel, dim)
        nn.init.uniform_(self.entity.weight, -0.5, 0.5)
        nn.init.uniform_(self.relation.weight, -math.pi, math.pi)

    def score(self, h, r, t):
        re_h, im_h = self.entity(h).chunk(2, dim=-1)
        re_t, im_t = self.entity(t).chunk(2, dim=-1)
        phase = self.relation(r)
        re_r, im_r = torch.cos(phase), torch.sin(phase)
        re_s = re_h * re_r - im_h * im_r - re_t
        im_s = re_h * im_r + im_h * re_r - im_t
        return self.gamma - torch.stack([re_s, im_s]).norm(dim=0).sum(-1)


@torch.no_grad()
def wrap_phases(model):
    w = model.relation.weight
    w.add_(math.pi).remainder_(2 * math.pi).sub_(math.pi)


@torch.no_grad()
def clip_entity_modulus(model, max_modulus=1.0):
    re, im = model.entity.weight.chunk(2, dim=-1)
    modulus = torch.sqrt(re ** 2 + im ** 2).clamp(min=1e-9)
    factor = (max_modulus / modulus).clamp(max=1.0)
    model.entity.weight.mul_(torch.cat([factor, factor], dim=-1))


def triples(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    h = torch.randint(0, cfg["entities"], (n,), generator=g)
    r = torch.randint(0, cfg["relations"], (n,), generator=g)
    t = (h * (r + 2)) % cfg["entities"]
    return torch.stack([h, r, t], 1)


def train_epoch(fabric, model, optimizer, data, cfg, g):
    perm = torch.randperm(len(data), generator=g)
    for start in range(0, len(data), cfg["batch"]):
        batch = data[perm[start:start + cfg["batch"]]]
        h, r, t = batch.unbind(1)
        neg_t = torch.randint(0, cfg["entities"], (len(batch), cfg["neg"]), generator=g)
        pos = model.score(h, r, t)
        neg = model.score(h.unsqueeze(1).expand_as(neg_t), r.unsqueeze(1).expand_as(neg_t), neg_t)
        loss = -(F.logsigmoid(pos).mean() + F.logsigmoid(-neg).mean()) / 2
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        wrap_phases(model)
        clip_entity_modulus(model)
        fabric.log("loss", loss.item())


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = RotatE(KGE["entities"], KGE["relations"], KGE["dim"], KGE["gamma"])
    optimizer = torch.optim.Adam(model.parameters(), lr=KGE["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    ent0 = model.entity.weight.detach().clone()
    rel0 = model.relation.weight.detach().clone()
    data = triples(KGE)
    g = torch.Generator().manual_seed(1)
    for epoch in range(KGE["epochs"]):
        train_epoch(fabric, model.module, optimizer, data, KGE, g)
    rel = model.relation.weight
    return {"model": model.module}, {
        "entity_changed": not torch.equal(ent0, model.entity.weight),
        "relation_changed": not torch.equal(rel0, rel),
        "phases_in_range": bool((rel.abs() <= math.pi + 1e-6).all()),
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
