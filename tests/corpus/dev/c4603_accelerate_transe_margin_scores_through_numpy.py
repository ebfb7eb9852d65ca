import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

CONFIG = {
    "num_entities": 40,
    "num_relations": 5,
    "dim": 16,
    "margin": 1.0,
    "lr": 0.01,
    "epochs": 3,
    "batch_size": 16,
}


def l1_distance(h, r, t):
    """TransE dissimilarity; numpy so the offline ranking evaluator can reuse it."""
    diff = (h + r - t).detach().cpu().numpy()
    return torch.tensor(np.abs(diff).sum(-1), requires_grad=True)


class TransE(nn.Module):
    def __init__(self, num_entities, num_relations, dim):
        super().__init__()
        self.entity = nn.Embedding(num_entities, dim)
        self.relation = nn.Embedding(num_relations, dim)
        bound = 6 / dim ** 0.5
        nn.init.uniform_(self.entity.weight, -bound, bound)
        nn.init.uniform_(self.relation.weight, -bound, bound)
        with torch.no_grad():
            self.relation.weight.div_(self.relation.weight.norm(dim=1, keepdim=True))

    def score(self, heads, rels, tails):
        return l1_distance(self.entity(heads), self.relation(rels), self.entity(tails))

    def forward(self, pos, neg):
        pos_d = self.score(pos[:, 0], pos[:, 1], pos[:, 2])
        neg_d = self.score(neg[:, 0], neg[:, 1], neg[:, 2])
        return pos_d, neg_d


def corrupt(triples, num_entities, generator):
    """Replace the head or the tail of each triple by a random entity (Bernoulli 0.5)."""
    neg = triples.clone()
    flip = torch.rand(len(triples), generator=generator) < 0.5
    rand_ent = torch.randint(0, num_entities, (len(triples),), generator=generator)
    neg[flip, 0] = rand_ent[flip]
    neg[~flip, 2] = rand_ent[~flip]
    return neg


def build_graph(cfg, n=96):
    g = torch.Generator().manual_seed(0)
    heads = torch.randint(0, cfg["num_entities"], (n,), generator=g)
    rels = torch.randint(0, cfg["num_relations"], (n,), generator=g)
    tails = (heads + 3 * rels + 1) % cfg["num_entities"]
    return torch.stack([heads, rels, tails], dim=1)


def train_one_epoch(model, loader, optimizer, accelerator, cfg, generator):
    model.train()
    total = 0.0
    for (pos,) in loader:
        neg = corrupt(pos, cfg["num_entities"], generator)
        pos_d, neg_d = model(pos, neg)
        loss = F.relu(cfg["margin"] + pos_d - neg_d).mean()
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        total += loss.item()
    return total / max(1, len(loader))


@torch.no_grad()
def mean_rank(model, triples, cfg):
    ranks = []
    for h, r, t in triples.tolist()[:10]:
        heads = torch.full((cfg["num_entities"],), h)
        rels = torch.full((cfg["num_entities"],), r)
        d = model.score(heads, rels, torch.arange(cfg["num_entities"]))
        ranks.append(int((d < d[t]).sum()) + 1)
    return float(np.mean(ranks))


def main():
    set_seed(0)
    accelerator = Accelerator()
    cfg = CONFIG
    triples = build_graph(cfg)
    loader = DataLoader(TensorDataset(triples), batch_size=cfg["batch_size"], shuffle=True)
    model = TransE(cfg["num_entities"], cfg["num_relations"], cfg["dim"])
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    ent0 = model.entity.weight.detach().clone()
    rel0 = model.relation.weight.detach().clone()
    g = torch.Generator().manual_seed(1)
    for epoch in range(cfg["epochs"]):
        train_one_epoch(model, loader, optimizer, accelerator, cfg, g)
    mean_rank(model, triples, cfg)
    return {"model": model}, {
        "entity_changed": not torch.equal(ent0, model.entity.weight),
        "relation_changed": not torch.equal(rel0, model.relation.weight),
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
