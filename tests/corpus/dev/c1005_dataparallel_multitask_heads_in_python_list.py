import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MultiTaskNet(nn.Module):
    def __init__(self, in_dim=20, hidden=32, tasks=(("churn", 2), ("segment", 4))):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.task_names = [name for name, _ in tasks]
        self.heads = [nn.Linear(hidden, n_out) for _, n_out in tasks]

    def forward(self, x):
        h = self.trunk(x)
        return {name: head(h) for name, head in zip(self.task_names, self.heads)}


def train(model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y_churn, y_seg in loader:
            out = model(x)
            loss = F.cross_entropy(out["churn"], y_churn) + F.cross_entropy(out["segment"], y_seg)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 20, generator=g)
    y_churn = (x[:, 0] > 0).long()
    y_seg = torch.randint(0, 4, (64,), generator=g)
    loader = DataLoader(TensorDataset(x, y_churn, y_seg), batch_size=16, shuffle=True, generator=g)
    net = MultiTaskNet()
    model = nn.DataParallel(net)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    head_before = net.heads[0].weight.detach().clone()
    trunk_before = net.trunk[0].weight.detach().clone()
    train(model, loader, optimizer, scheduler)
    in_opt = {id(p) for grp in optimizer.param_groups for p in grp["params"]}
    facts = {
        "churn_head_changed": not torch.equal(head_before, net.heads[0].weight),
        "trunk_changed": not torch.equal(trunk_before, net.trunk[0].weight),
        "churn_head_in_optimizer": id(net.heads[0].weight) in in_opt,
    }
    return {"net": net}, facts

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
