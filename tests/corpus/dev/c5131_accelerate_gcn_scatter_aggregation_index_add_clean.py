import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator

CFG = {"nodes": 30, "in_dim": 10, "hidden": 24, "classes": 3, "edge_drop": 0.1, "lr": 1e-2, "epochs": 4,
       "grad_accum": 2}


def make_graph(n, gen):
    src = torch.randint(0, n, (80,), generator=gen)
    dst = torch.randint(0, n, (80,), generator=gen)
    loops = torch.arange(n)
    return torch.stack([torch.cat([src, dst, loops]), torch.cat([dst, src, loops])])


class GCNConv(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)

    def forward(self, x, edge_index):
        src, dst = edge_index
        deg = torch.zeros(x.size(0)).index_add_(0, dst, torch.ones(dst.numel()))
        norm = deg[src].rsqrt() * deg[dst].rsqrt()
        msg = self.lin(x)[src] * norm.unsqueeze(-1)
        out = torch.zeros(x.size(0), msg.size(-1))
        out.index_add_(0, dst, msg)
        return out


class GCN(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.conv1 = GCNConv(cfg["in_dim"], cfg["hidden"])
        self.conv2 = GCNConv(cfg["hidden"], cfg["classes"])

    def forward(self, x, edge_index):
        if self.training and self.cfg["edge_drop"] > 0:
            keep = torch.rand(edge_index.size(1)) > self.cfg["edge_drop"]
            edge_index = edge_index[:, keep]
        h = F.dropout(F.relu(self.conv1(x, edge_index)), 0.2, self.training)
        return self.conv2(h, edge_index)


def train(accelerator, model, optimizer, x, edge_index, y, mask, epochs):
    for _ in range(epochs):
        with accelerator.accumulate(model):
            model.train()
            loss = F.cross_entropy(model(x, edge_index)[mask], y[mask])
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=CFG["grad_accum"])
    g = torch.Generator().manual_seed(0)
    x = torch.randn(CFG["nodes"], CFG["in_dim"], generator=g)
    edge_index = make_graph(CFG["nodes"], g)
    y = torch.randint(0, CFG["classes"], (CFG["nodes"],), generator=g)
    mask = torch.arange(CFG["nodes"]) < 20
    model = GCN(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"], weight_decay=5e-4)
    model, optimizer = accelerator.prepare(model, optimizer)
    w0 = model.conv1.lin.weight.detach().clone()
    train(accelerator, model, optimizer, x, edge_index, y, mask, CFG["epochs"])
    model.eval()
    F.cross_entropy(model(x, edge_index)[mask], y[mask]).backward()
    return {"model": model}, {"conv1_changed": not torch.equal(w0, model.conv1.lin.weight)}

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
