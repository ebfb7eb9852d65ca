import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric

ARGS = {"nentity": 32, "nrelation": 6, "hidden_dim": 8, "gamma": 9.0, "epsilon": 2.0, "lr": 0.02,
        "negative_sample_size": 8, "adversarial_temperature": 1.0, "batch_size": 16, "steps": 12}


def relation_rotation(model, r):
    phase = model.relation.weight.data[r] / (model.embedding_range / math.pi)
    return torch.cos(phase), torch.sin(phase)


class KGEModel(nn.Module):
    def __init__(self, args):
        super().__init__()
        self.gamma = args["gamma"]
        self.embedding_range = (args["gamma"] + args["epsilon"]) / args["hidden_dim"]
        self.entity = nn.Embedding(args["nentity"], 2 * args["hidden_dim"])
        self.relation = nn.Embedding(args["nrelation"], args["hidden_dim"])
        nn.init.uniform_(self.entity.weight, -self.embedding_range, self.embedding_range)
        nn.init.uniform_(self.relation.weight, -self.embedding_range, self.embedding_range)

    def forward(self, head, rel, tail):
        re_head, im_head = self.entity(head).chunk(2, dim=-1)
        re_tail, im_tail = self.entity(tail).chunk(2, dim=-1)
        re_rel, im_rel = relation_rotation(self, rel)
        re_score = re_head * re_rel - im_head * im_rel - re_tail
        im_score = re_head * im_rel + im_head * re_rel - im_tail
        return self.gamma - torch.stack([re_score, im_score], 0).norm(dim=0).sum(-1)


def sample_batch(triples, args, g):
    idx = torch.randint(0, len(triples), (args["batch_size"],), generator=g)
    pos = triples[idx]
    neg_tail = torch.randint(0, args["nentity"], (args["batch_size"], args["negative_sample_size"]), generator=g)
    return pos, neg_tail


def train_step(fabric, model, optimizer, triples, args, g):
    model.train()
    pos, neg_tail = sample_batch(triples, args, g)
    h, r, t = pos[:, 0], pos[:, 1], pos[:, 2]
    positive_score = F.logsigmoid(model(h, r, t))
    hh = h.unsqueeze(1).expand_as(neg_tail)
    rr = r.unsqueeze(1).expand_as(neg_tail)
    negative_score = model(hh, rr, neg_tail)
    weights = F.softmax(negative_score * args["adversarial_temperature"], dim=1).detach()
    negative_score = (weights * F.logsigmoid(-negative_score)).sum(dim=1)
    loss = -(positive_score.mean() + negative_score.mean()) / 2
    optimizer.zero_grad()
    fabric.backward(loss)
    optimizer.step()
    return loss.item()


@torch.no_grad()
def filtered_mrr(model, triples, args):
    model.eval()
    rr = []
    for h, r, t in triples[:8].tolist():
        tails = torch.arange(args["nentity"])
        scores = model(torch.full_like(tails, h), torch.full_like(tails, r), tails)
        rr.append(1.0 / (1 + (scores > scores[t]).sum().item()))
    return sum(rr) / len(rr)


def build_triples(args, n=80):
    g = torch.Generator().manual_seed(0)
    h = torch.randint(0, args["nentity"], (n,), generator=g)
    r = torch.randint(0, args["nrelation"], (n,), generator=g)
    return torch.stack([h, r, (h + 5 * r + 3) % args["nentity"]], 1)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = KGEModel(ARGS)
    optimizer = torch.optim.Adam(model.parameters(), lr=ARGS["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    rel0 = model.relation.weight.detach().clone()
    ent0 = model.entity.weight.detach().clone()
    triples = build_triples(ARGS)
    g = torch.Generator().manual_seed(1)
    for step in range(ARGS["steps"]):
        train_step(fabric, model, optimizer, triples, ARGS, g)
    filtered_mrr(model, triples, ARGS)
    return {"model": model.module}, {
        "relation_changed": not torch.equal(rel0, model.relation.weight),
        "entity_changed": not torch.equal(ent0, model.entity.weight),
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
