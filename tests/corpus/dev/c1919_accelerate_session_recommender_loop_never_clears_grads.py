import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SessionRecommender(nn.Module):
    """GRU4Rec-style next-item model with a tied output layer."""

    def __init__(self, n_items=60, dim=16):
        super().__init__()
        self.item_emb = nn.Embedding(n_items, dim, padding_idx=0)
        self.gru = nn.GRU(dim, dim, batch_first=True)
        self.norm = nn.LayerNorm(dim)
        self.out_bias = nn.Parameter(torch.zeros(n_items))

    def forward(self, sessions):
        h, _ = self.gru(self.item_emb(sessions))
        user = self.norm(h[:, -1])
        return user @ self.item_emb.weight.t() + self.out_bias


def grads_are_clear(model):
    return all(p.grad is None or not bool(p.grad.abs().sum() > 0) for p in model.parameters())


def train(accelerator, model, optimizer, scheduler, loader, epochs=2):
    model.train()
    clear_before_every_backward = True
    for _ in range(epochs):
        for sessions, targets in loader:
            logits = model(sessions)
            loss = F.cross_entropy(logits, targets, label_smoothing=0.05)
            clear_before_every_backward &= grads_are_clear(model)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            scheduler.step()
    return clear_before_every_backward


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    sessions = torch.randint(1, 60, (40, 7), generator=g)
    targets = (sessions[:, -1] * 7) % 59 + 1
    loader = DataLoader(TensorDataset(sessions, targets), batch_size=8, shuffle=True, generator=g)
    model = SessionRecommender()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=10)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    clear = train(accelerator, model, optimizer, scheduler, loader)
    return {"model": model}, {"grads_cleared_each_step": clear}

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
