import numpy as np
import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class WideAndDeep(nn.Module):
    """Click-through-rate model: a linear 'wide' part over sparse ids plus a deep MLP over embeddings."""

    def __init__(self, n_ids=50, n_fields=4, dim=8):
        super().__init__()
        self.wide = nn.Embedding(n_ids, 1)
        self.emb = nn.Embedding(n_ids, dim)
        self.deep = nn.Sequential(nn.Linear(n_fields * dim, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 1))

    def forward(self, ids):
        wide = self.wide(ids).sum(dim=1)
        deep = self.deep(self.emb(ids).flatten(1))
        return torch.sigmoid(wide + deep).squeeze(1)


def log_loss(y_true, y_prob, eps=1e-7):
    """Binary log loss, written once for the offline evaluation script and reused for training."""
    p = np.clip(y_prob.detach().cpu().numpy(), eps, 1 - eps)
    y = y_true.cpu().numpy()
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return torch.tensor(loss, dtype=torch.float32, requires_grad=True)


def train_epoch(accelerator, model, loader, optimizer, scheduler):
    model.train()
    running = 0.0
    for ids, clicked in loader:
        optimizer.zero_grad()
        loss = log_loss(clicked, model(ids))
        accelerator.backward(loss)
        optimizer.step()
        scheduler.step()
        running += loss.item()
    return running / len(loader)


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 50, (64, 4), generator=g)
    clicked = ((ids[:, 0] % 3) == 0).float()
    loader = DataLoader(TensorDataset(ids, clicked), batch_size=16, shuffle=True, generator=g)
    model = WideAndDeep()
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.05)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    w0 = model.deep[0].weight.detach().clone()
    for _ in range(2):
        train_epoch(accelerator, model, loader, optimizer, scheduler)
    return {"model": model}, {"deep_changed": not torch.equal(w0, model.deep[0].weight)}

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
