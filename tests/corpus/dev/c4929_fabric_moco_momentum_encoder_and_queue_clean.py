import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 24, "dim": 16, "queue": 64, "m": 0.99, "T": 0.2, "lr": 0.03, "epochs": 2}


class MoCo(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.m, self.T = cfg["m"], cfg["T"]
        self.encoder_q = nn.Sequential(nn.Linear(cfg["in_dim"], 32), nn.ReLU(), nn.Linear(32, cfg["dim"]))
        self.encoder_k = copy.deepcopy(self.encoder_q)
        for p in self.encoder_k.parameters():
            p.requires_grad = False
        self.register_buffer("queue", F.normalize(torch.randn(cfg["queue"], cfg["dim"]), dim=1))
        self.register_buffer("ptr", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def _momentum_update_key_encoder(self):
        for q, k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            k.data.mul_(self.m).add_(q.data, alpha=1 - self.m)

    @torch.no_grad()
    def _dequeue_and_enqueue(self, keys):
        n, start = keys.shape[0], int(self.ptr)
        self.queue[start:start + n] = keys
        self.ptr.fill_((start + n) % self.queue.shape[0])

    def forward(self, x_q, x_k):
        q = F.normalize(self.encoder_q(x_q), dim=1)
        with torch.no_grad():
            self._momentum_update_key_encoder()
            k = F.normalize(self.encoder_k(x_k), dim=1)
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ self.queue.clone().t()], 1) / self.T
        self._dequeue_and_enqueue(k)
        return F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long))


def augment(x, g):
    return x + 0.1 * torch.randn(x.shape, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    moco = MoCo(CFG)
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, moco.parameters()), lr=CFG["lr"], momentum=0.9)
    model, optimizer = fabric.setup(moco, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randn(64, CFG["in_dim"], generator=g)), batch_size=16))
    k0, queue0 = moco.encoder_k[0].weight.clone(), moco.queue.clone()
    for _ in range(CFG["epochs"]):
        for (x,) in loader:
            loss = model(augment(x, g), augment(x, g))
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"encoder_q": moco.encoder_q}, {
        "key_encoder_changed": not torch.equal(k0, moco.encoder_k[0].weight),
        "queue_changed": not torch.equal(queue0, moco.queue),
        "key_encoder_has_grad": moco.encoder_k[0].weight.grad is not None,
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
