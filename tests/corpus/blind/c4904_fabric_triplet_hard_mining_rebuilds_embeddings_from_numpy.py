import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def select_hard_triplets(a, p, n, margin):
    """FaceNet-style selection: keep triplets that violate the margin (distances computed on the host)."""
    a_np, p_np, n_np = a.detach().cpu().numpy(), p.detach().cpu().numpy(), n.detach().cpu().numpy()
    d_ap = ((a_np - p_np) ** 2).sum(1)
    d_an = ((a_np - n_np) ** 2).sum(1)
    hard = np.where(d_an - d_ap < margin)[0]
    return (torch.from_numpy(a_np[hard]), torch.from_numpy(p_np[hard]), torch.from_numpy(n_np[hard]))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    net = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 8))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(net, optimizer)
    protos = torch.randn(4, 12, generator=g)
    y = torch.randint(0, 4, (64,), generator=g)
    x = protos[y] + 0.5 * torch.randn(64, 12, generator=g)
    neg = protos[(y + 1) % 4] + 0.5 * torch.randn(64, 12, generator=g)
    pos = protos[y] + 0.5 * torch.randn(64, 12, generator=g)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(x, pos, neg), batch_size=16, shuffle=True))
    for (xa, xp, xn) in loader:
        a, p, n = (F.normalize(model(v), dim=1) for v in (xa, xp, xn))
        sa, sp, sn = select_hard_triplets(a, p, n, margin=0.5)
        loss = F.triplet_margin_loss(sa, sp, sn, margin=0.5)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"net": net}

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
