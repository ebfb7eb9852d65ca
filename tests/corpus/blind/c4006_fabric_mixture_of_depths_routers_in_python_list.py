import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x):
        return self.ff(self.norm(x))


def make_routers(d, n_layers):
    return [nn.Linear(d, 1) for _ in range(n_layers)]


class MoDLM(nn.Module):
    def __init__(self, vocab=20, d=16, n_layers=2, capacity=0.5):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList([Block(d) for _ in range(n_layers)])
        self.routers = make_routers(d, n_layers)
        self.head = nn.Linear(d, vocab)
        self.capacity = capacity

    def route(self, layer, x):
        b, t, d = x.shape
        k = max(1, int(t * self.capacity))
        w = self.routers[layer](x).squeeze(-1)
        top = w.topk(k, dim=1).indices.sort(dim=1).values
        idx = top.unsqueeze(-1).expand(-1, -1, d)
        upd = self.blocks[layer](x.gather(1, idx)) * torch.sigmoid(w.gather(1, top)).unsqueeze(-1)
        return x.scatter_add(1, idx, upd)

    def forward(self, ids):
        x = self.embed(ids)
        for layer in range(len(self.blocks)):
            x = self.route(layer, x)
        return self.head(x)


def train(fabric, model, optimizer, loader, epochs=2):
    for _ in range(epochs):
        for (ids,) in loader:
            logits = model(ids[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = MoDLM()
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3)
    model, optimizer = fabric.setup(net, optimizer)
    g = torch.Generator().manual_seed(0)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randint(0, 20, (32, 9), generator=g)), batch_size=8))
    r0 = net.routers[0].weight.detach().clone()
    b0 = net.blocks[0].ff[0].weight.detach().clone()
    train(fabric, model, optimizer, loader)
    return {"router0": net.routers[0]}, {
        "router_changed": not torch.equal(r0, net.routers[0].weight),
        "blocks_changed": not torch.equal(b0, net.blocks[0].ff[0].weight),
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
