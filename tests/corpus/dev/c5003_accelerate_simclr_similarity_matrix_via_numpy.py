import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 20, "proj_dim": 16, "temperature": 0.2, "lr": 1e-3, "epochs": 2, "batch": 16, "grad_accum": 1}


class SimCLRNet(nn.Module):
    def __init__(self, in_dim, proj_dim):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 32))
        self.projector = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, proj_dim))

    def forward(self, x):
        return self.projector(self.encoder(x))


def augment(x, gen):
    mask = (torch.rand(x.shape, generator=gen) > 0.2).float()
    return x * mask + 0.1 * torch.randn(x.shape, generator=gen)


def cosine_sim_matrix(z):
    """All-pairs cosine similarity (also used for the positive-pair monitor)."""
    arr = z.detach().cpu().numpy()
    arr = arr / np.linalg.norm(arr, axis=1, keepdims=True)
    return torch.from_numpy(arr @ arr.T).to(z.device)


def nt_xent(z1, z2, temperature):
    n = z1.shape[0]
    sim = cosine_sim_matrix(torch.cat([z1, z2])) / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=sim.device), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(sim.device)
    return F.cross_entropy(sim, targets)


def train_one_epoch(accelerator, model, loader, optimizer, scheduler, cfg, gen):
    model.train()
    for (x,) in loader:
        with accelerator.accumulate(model):
            z1, z2 = model(augment(x, gen)), model(augment(x, gen))
            loss = nt_xent(z1, z2, cfg["temperature"])
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        pos = cosine_sim_matrix(torch.cat([z1, z2])).diagonal(z1.shape[0]).mean()
        accelerator.log({"loss": loss.item(), "pos_cos": float(pos)})


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=CFG["grad_accum"])
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(64, CFG["in_dim"], generator=g)), batch_size=CFG["batch"],
                        shuffle=True, drop_last=True, generator=g)
    model = SimCLRNet(CFG["in_dim"], CFG["proj_dim"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"], weight_decay=1e-6)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 4))
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    enc0 = model.encoder[0].weight.detach().clone()
    for _ in range(CFG["epochs"]):
        train_one_epoch(accelerator, model, loader, optimizer, scheduler, CFG, g)
    return {"model": model}, {"encoder_changed": not torch.equal(enc0, model.encoder[0].weight)}

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
