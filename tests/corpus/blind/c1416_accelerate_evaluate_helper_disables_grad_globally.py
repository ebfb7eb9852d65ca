import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ChurnModel(nn.Module):
    def __init__(self, n_num=8, n_plans=5, dim=16):
        super().__init__()
        self.plan_embed = nn.Embedding(n_plans, 4)
        self.mlp = nn.Sequential(nn.Linear(n_num + 4, dim), nn.ReLU(), nn.Linear(dim, 1))

    def forward(self, numeric, plan):
        return self.mlp(torch.cat([numeric, self.plan_embed(plan)], dim=-1)).squeeze(-1)


def evaluate(model, loader):
    torch.set_grad_enabled(False)
    model.eval()
    total, correct = 0, 0
    for numeric, plan, churned in loader:
        preds = (model(numeric, plan) > 0).float()
        correct += (preds == churned).sum().item()
        total += churned.numel()
    model.train()
    return correct / max(total, 1)


def make_loader(seed, n=48):
    g = torch.Generator().manual_seed(seed)
    numeric = torch.randn(n, 8, generator=g)
    plan = torch.randint(0, 5, (n,), generator=g)
    churned = (numeric[:, 0] + 0.3 * plan > 1).float()
    return DataLoader(TensorDataset(numeric, plan, churned), batch_size=16, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = ChurnModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train_loader, val_loader = make_loader(1), make_loader(2)
    model, optimizer, train_loader, val_loader = accelerator.prepare(model, optimizer, train_loader, val_loader)
    for epoch in range(2):
        for numeric, plan, churned in train_loader:
            loss = F.binary_cross_entropy_with_logits(model(numeric, plan), churned)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
        accelerator.print(f"epoch {epoch}: val acc {evaluate(model, val_loader):.3f}")
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
