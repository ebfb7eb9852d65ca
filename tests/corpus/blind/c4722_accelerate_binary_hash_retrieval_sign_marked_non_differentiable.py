import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator

CFG = {"in_dim": 24, "bits": 16, "lr": 1e-3, "steps": 5, "batch": 16}


class SignHash(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        codes = torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))
        ctx.mark_non_differentiable(codes)
        return codes

    @staticmethod
    def backward(ctx, grad_codes):
        return grad_codes


class HashTower(nn.Module):
    def __init__(self, in_dim, bits):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, bits), nn.Tanh())

    def forward(self, x):
        return SignHash.apply(self.mlp(x))


class BinaryRetrieval(nn.Module):
    """Query/document towers producing binary codes; similarity = scaled Hamming affinity."""

    def __init__(self, cfg):
        super().__init__()
        self.query_tower = HashTower(cfg["in_dim"], cfg["bits"])
        self.doc_tower = HashTower(cfg["in_dim"], cfg["bits"])
        self.scale = nn.Parameter(torch.tensor(0.5))

    def forward(self, q, d):
        return self.scale * (self.query_tower(q) @ self.doc_tower(d).T) / self.query_tower.mlp[2].out_features


def main():
    torch.manual_seed(0)
    model = BinaryRetrieval(CFG)
    accelerator = Accelerator()
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = accelerator.prepare(model, optimizer)
    g = torch.Generator().manual_seed(0)
    q0 = model.query_tower.mlp[0].weight.detach().clone()
    for step in range(CFG["steps"]):
        d = torch.randn(CFG["batch"], CFG["in_dim"], generator=g)
        q = d + 0.1 * torch.randn(CFG["batch"], CFG["in_dim"], generator=g)
        logits = model(q, d)
        loss = F.cross_entropy(logits, torch.arange(CFG["batch"]))
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return {"model": model}, {"query_tower_changed": not torch.equal(q0, model.query_tower.mlp[0].weight)}

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
