import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class RelGraphConv(nn.Module):
    """R-GCN layer: one weight matrix per relation plus a self-loop weight."""

    def __init__(self, dim, relations):
        super().__init__()
        self.self_loop = nn.Linear(dim, dim)
        self.rel_lin = {}
        for rel in relations:
            self.rel_lin[rel] = nn.Linear(dim, dim, bias=False)

    def forward(self, x, edges):
        out = self.self_loop(x)
        for rel, (src, dst) in edges.items():
            msg = self.rel_lin[rel](x[src])
            out = out.index_add(0, dst, msg)
        return F.relu(out)


class RGCN(nn.Module):
    def __init__(self, n_nodes, dim, relations, n_cls):
        super().__init__()
        self.embed = nn.Embedding(n_nodes, dim)
        self.layers = nn.ModuleList([RelGraphConv(dim, relations) for _ in range(2)])
        self.out = nn.Linear(dim, n_cls)

    def forward(self, edges):
        x = self.embed.weight
        for layer in self.layers:
            x = layer(x, edges)
        return self.out(x)


def make_graph(n=20, relations=("cites", "authored", "same_venue")):
    g = torch.Generator().manual_seed(0)
    edges = {r: (torch.randint(0, n, (40,), generator=g), torch.randint(0, n, (40,), generator=g)) for r in relations}
    labels = torch.randint(0, 3, (n,), generator=g)
    train_mask = torch.rand(n, generator=g) < 0.6
    return edges, labels, train_mask


def run_epoch(model, optimizer, fabric, edges, labels, mask):
    logits = model(edges)
    loss = F.cross_entropy(logits[mask], labels[mask])
    optimizer.zero_grad()
    fabric.backward(loss)
    optimizer.step()
    return loss.item()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    edges, labels, mask = make_graph()
    model = RGCN(20, 8, list(edges), 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    model, optimizer = fabric.setup(model, optimizer)
    rel = model.module.layers[0].rel_lin["cites"]
    w0 = rel.weight.detach().clone()
    for epoch in range(10):
        run_epoch(model, optimizer, fabric, edges, labels, mask)
        scheduler.step()
    facts = {"relation_weight_changed": not torch.equal(w0, rel.weight),
             "relation_weight_in_parameters": any(p is rel.weight for p in model.parameters())}
    return {"model": model.module, "cites_linear": rel}, facts

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
