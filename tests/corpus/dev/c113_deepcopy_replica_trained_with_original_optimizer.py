import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TabularNet(nn.Module):
    def __init__(self, n_num=6, n_cat=5, emb_dim=4, hidden=24):
        super().__init__()
        self.cat_emb = nn.Embedding(n_cat, emb_dim)
        self.mlp = nn.Sequential(nn.Linear(n_num + emb_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x_num, x_cat):
        return self.mlp(torch.cat([x_num, self.cat_emb(x_cat)], dim=-1)).squeeze(-1)


def configure(model, lr=1e-2):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=8)
    return optimizer, scheduler


def fit(model, loader, optimizer, scheduler, device="cpu", epochs=2):
    # keep `model` pristine on the host for checkpointing; train a device replica
    net = copy.deepcopy(model).to(device)
    net.train()
    for _ in range(epochs):
        for x_num, x_cat, y in loader:
            optimizer.zero_grad()
            loss = F.binary_cross_entropy_with_logits(net(x_num, x_cat), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
    return net


def main():
    torch.manual_seed(0)
    n = 64
    data = TensorDataset(torch.randn(n, 6), torch.randint(0, 5, (n,)), torch.randint(0, 2, (n,)).float())
    loader = DataLoader(data, batch_size=16, shuffle=True)
    model = TabularNet()
    optimizer, scheduler = configure(model)
    trained = fit(model, loader, optimizer, scheduler)
    facts = {"replica_changed": not torch.equal(model.mlp[0].weight.detach(), trained.mlp[0].weight.detach())}
    return {"model": model, "trained": trained}, facts

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
