import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric

CFG = {"nodes": 24, "in_dim": 12, "hidden": 16, "classes": 3, "heads": 2, "edge_drop": 0.2, "lr": 5e-3, "epochs": 3}


def random_graph(n, p, gen):
    adj = (torch.rand(n, n, generator=gen) < p).float()
    adj = ((adj + adj.t()) > 0).float()
    adj.fill_diagonal_(1.0)
    return adj


def drop_edges_(attn, p, gen):
    """DropEdge on the normalized attention coefficients (rescaled like dropout)."""
    keep = (torch.rand(attn.shape, generator=gen) > p).float() / (1 - p)
    return attn.mul_(keep)


class GATLayer(nn.Module):
    def __init__(self, d_in, d_out, heads):
        super().__init__()
        self.heads, self.d_out = heads, d_out
        self.W = nn.Linear(d_in, heads * d_out, bias=False)
        self.a_src = nn.Parameter(torch.randn(heads, d_out) * 0.1)
        self.a_dst = nn.Parameter(torch.randn(heads, d_out) * 0.1)

    def forward(self, x, adj, edge_drop=0.0, gen=None):
        h = self.W(x).view(-1, self.heads, self.d_out)                 # (N, H, D)
        e = (h * self.a_dst).sum(-1).unsqueeze(1) + (h * self.a_src).sum(-1).unsqueeze(0)  # (N, N, H)
        e = F.leaky_relu(e, 0.2).masked_fill(adj.unsqueeze(-1) == 0, float("-inf"))
        attn = torch.softmax(e, dim=1)
        if self.training and edge_drop > 0:
            attn = drop_edges_(attn, edge_drop, gen)
        return torch.einsum("ijh,jhd->ihd", attn, h).reshape(x.size(0), -1)


class GAT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.l1 = GATLayer(cfg["in_dim"], cfg["hidden"], cfg["heads"])
        self.l2 = GATLayer(cfg["hidden"] * cfg["heads"], cfg["classes"], 1)
        self.gen = torch.Generator().manual_seed(3)

    def forward(self, x, adj):
        h = F.elu(self.l1(x, adj, self.cfg["edge_drop"], self.gen))
        return self.l2(h, adj, self.cfg["edge_drop"], self.gen)


def train(fabric, model, optimizer, x, adj, y, train_mask, epochs):
    for _ in range(epochs):
        model.train()
        logits = model(x, adj)
        loss = F.cross_entropy(logits[train_mask], y[train_mask])
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(CFG["nodes"], CFG["in_dim"], generator=g)
    adj = random_graph(CFG["nodes"], 0.15, g)
    y = torch.randint(0, CFG["classes"], (CFG["nodes"],), generator=g)
    train_mask = torch.arange(CFG["nodes"]) < 16
    model = GAT(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"], weight_decay=5e-4)
    model, optimizer = fabric.setup(model, optimizer)
    train(fabric, model, optimizer, x, adj, y, train_mask, CFG["epochs"])
    return {"model": model}

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
