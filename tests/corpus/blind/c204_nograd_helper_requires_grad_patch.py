import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TabularNet(nn.Module):
    def __init__(self, n_num=6, n_cat=10, emb=4, hidden=32):
        super().__init__()
        self.cat_emb = nn.Embedding(n_cat, emb)
        self.body = nn.Sequential(nn.Linear(n_num + emb, hidden), nn.SiLU(), nn.Dropout(0.1), nn.Linear(hidden, 1))

    def forward(self, x_num, x_cat):
        return self.body(torch.cat([x_num, self.cat_emb(x_cat)], dim=-1)).squeeze(-1)


@torch.no_grad()
def predict(model, x_num, x_cat):
    """Shared by the training loop, validation and the serving code."""
    return model(x_num, x_cat)


def run_epoch(model, loader, optimizer):
    model.train()
    total = 0.0
    for x_num, x_cat, y in loader:
        pred = predict(model, x_num, x_cat)
        loss = F.mse_loss(pred, y)
        # "element 0 of tensors does not require grad" without this
        loss.requires_grad_(True)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def main():
    torch.manual_seed(0)
    x_num, x_cat = torch.randn(64, 6), torch.randint(0, 10, (64,))
    y = x_num[:, 0] * 2 - x_num[:, 1]
    loader = DataLoader(TensorDataset(x_num, x_cat, y), batch_size=16, shuffle=True)
    model = TabularNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = model.body[0].weight.detach().clone()
    for _ in range(3):
        run_epoch(model, loader, optimizer)
    return {"model": model}, {"weights_changed": not torch.equal(before, model.body[0].weight.detach())}

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
