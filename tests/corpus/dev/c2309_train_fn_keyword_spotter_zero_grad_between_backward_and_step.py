import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class KeywordSpotter(nn.Module):
    def __init__(self, n_mels=20, n_cls=4):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, 32, 3, padding=1), nn.BatchNorm1d(32), nn.ReLU())
        self.gru = nn.GRU(32, 32, batch_first=True)
        self.fc = nn.Linear(32, n_cls)

    def forward(self, x):
        h = self.conv(x).transpose(1, 2)
        out, _ = self.gru(h)
        return self.fc(out[:, -1])


def build_warmup(optimizer, warmup_steps):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup_steps))


def train(model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
            scheduler.step()
    return model


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(24, 20, 16), torch.randint(0, 4, (24,))), batch_size=8, shuffle=True)
    model = KeywordSpotter()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = build_warmup(optimizer, warmup_steps=3)
    w0 = model.fc.weight.detach().clone()
    train(model, loader, optimizer, scheduler)
    return {"model": model}, {"fc_changed": not torch.equal(w0, model.fc.weight)}

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
