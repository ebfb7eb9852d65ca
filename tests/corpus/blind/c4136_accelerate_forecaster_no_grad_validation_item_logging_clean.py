import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class Seq2SeqForecaster(nn.Module):
    def __init__(self, n_vars=2, d=16, horizon=4):
        super().__init__()
        self.horizon = horizon
        self.encoder = nn.GRU(n_vars, d, batch_first=True)
        self.decoder = nn.GRUCell(1, d)
        self.out = nn.Linear(d, 1)

    def forward(self, history, teacher=None):
        _, h = self.encoder(history)
        h = h[0]
        y = history[:, -1, :1]
        preds = []
        for k in range(self.horizon):
            h = self.decoder(y, h)
            step = self.out(h)
            preds.append(step)
            y = teacher[:, k : k + 1] if teacher is not None else step
        return torch.cat(preds, 1)


def evaluate(model, loader):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for history, target in loader:
            pred = model(history)
            total += F.l1_loss(pred, target, reduction="sum").item()
            count += target.numel()
    model.train()
    return total / count


def fit(model, train_loader, val_loader, optimizer, accelerator, epochs):
    history = []
    for _ in range(epochs):
        for x, y in train_loader:
            loss = F.l1_loss(model(x, teacher=y), y)
            optimizer.zero_grad()
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            history.append({"train_l1": loss.item()})
        history.append({"val_l1": evaluate(model, val_loader)})
    return history


def windows(n, seed, lookback=12, horizon=4):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(lookback + horizon).float()
    s = torch.sin(t[None] * 0.4 + torch.rand(n, 1, generator=g) * 6) + 0.05 * torch.randn(n, lookback + horizon, generator=g)
    x = torch.stack([s, torch.cos(t[None] * 0.4).expand(n, -1)], -1)
    return DataLoader(TensorDataset(x[:, :lookback], s[:, lookback:]), batch_size=16, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = Seq2SeqForecaster()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    model, optimizer, train_loader, val_loader = accelerator.prepare(model, optimizer, windows(48, 0), windows(16, 1))
    enc0 = model.encoder.weight_ih_l0.detach().clone()
    log = fit(model, train_loader, val_loader, optimizer, accelerator, epochs=2)
    return {"model": model}, {
        "encoder_changed": not torch.equal(enc0, model.encoder.weight_ih_l0),
        "val_logged": sum(1 for r in log if "val_l1" in r),
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
