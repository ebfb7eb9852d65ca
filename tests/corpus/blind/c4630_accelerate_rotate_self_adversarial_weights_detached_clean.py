import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

KG = {"num_nodes": 30, "num_relations": 4, "hidden": 8, "margin": 6.0, "adv_temperature": 1.0, "num_neg": 6,
      "lr": 0.02, "epochs": 3, "batch": 16}


class RotatE(nn.Module):
    def __init__(self, num_nodes, num_relations, hidden, margin):
        super().__init__()
        self.margin = margin
        self.node_emb = nn.Embedding(num_nodes, hidden)
        self.node_emb_im = nn.Embedding(num_nodes, hidden)
        self.rel_emb = nn.Embedding(num_relations, hidden)
        nn.init.xavier_uniform_(self.node_emb.weight)
        nn.init.xavier_uniform_(self.node_emb_im.weight)
        nn.init.uniform_(self.rel_emb.weight, 0, 2 * math.pi)

    def forward(self, head, rel, tail):
        h_re, h_im = self.node_emb(head), self.node_emb_im(head)
        t_re, t_im = self.node_emb(tail), self.node_emb_im(tail)
        r_re, r_im = torch.cos(self.rel_emb(rel)), torch.sin(self.rel_emb(rel))
        re = h_re * r_re - h_im * r_im - t_re
        im = h_re * r_im + h_im * r_re - t_im
        return self.margin - torch.sqrt(re ** 2 + im ** 2 + 1e-9).sum(-1)


def self_adversarial_loss(pos_score, neg_score, temperature):
    weights = F.softmax(neg_score * temperature, dim=-1).detach()
    neg = (weights * F.logsigmoid(-neg_score)).sum(-1)
    return -(F.logsigmoid(pos_score) + neg).mean() / 2


def corrupt_tails(tails, num_nodes, k, g):
    return torch.randint(0, num_nodes, (len(tails), k), generator=g)


def train_epoch(model, loader, optimizer, accelerator, cfg, g):
    model.train()
    for (batch,) in loader:
        h, r, t = batch.unbind(-1)
        pos = model(h, r, t)
        neg_t = corrupt_tails(t, cfg["num_nodes"], cfg["num_neg"], g)
        neg = model(h[:, None].expand_as(neg_t), r[:, None].expand_as(neg_t), neg_t)
        loss = self_adversarial_loss(pos, neg, cfg["adv_temperature"])
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        accelerator.log({"loss": loss.item()})


@torch.no_grad()
def hits_at_3(model, triples, cfg):
    model.eval()
    hits = 0
    for h, r, t in triples.tolist():
        cand = torch.arange(cfg["num_nodes"])
        scores = model(torch.full_like(cand, h), torch.full_like(cand, r), cand)
        hits += int(t in scores.topk(3).indices.tolist())
    return hits / len(triples)


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    heads = torch.randint(0, KG["num_nodes"], (64,), generator=g)
    rels = torch.randint(0, KG["num_relations"], (64,), generator=g)
    triples = torch.stack([heads, rels, (heads + 2 * rels + 1) % KG["num_nodes"]], -1)
    loader = DataLoader(TensorDataset(triples), batch_size=KG["batch"], shuffle=True)
    model = RotatE(KG["num_nodes"], KG["num_relations"], KG["hidden"], KG["margin"])
    optimizer = torch.optim.Adam(model.parameters(), lr=KG["lr"])
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    ent0 = model.node_emb.weight.detach().clone()
    rel0 = model.rel_emb.weight.detach().clone()
    for epoch in range(KG["epochs"]):
        train_epoch(model, loader, optimizer, accelerator, KG, g)
    hits_at_3(model, triples[:10], KG)
    return {"model": model}, {
        "entities_changed": not torch.equal(ent0, model.node_emb.weight),
        "relations_changed": not torch.equal(rel0, model.rel_emb.weight),
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
