import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FrozenSSLClassifier(nn.Module):
    def __init__(self, dim=16, n_cls=5, freeze=True):
        super().__init__()
        self.ssl = nn.Sequential(nn.Conv1d(1, dim, 8, stride=4), nn.GELU())
        if freeze:
            self.ssl.requires_grad_(False)
        self.adapter = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, n_cls)

    def forward(self, wav):
        feats = self.ssl(wav.unsqueeze(1)).transpose(1, 2)
        return self.out(F.relu(self.adapter(feats)).mean(1))


def error_rate(pred_ids, ref_ids):
    return float(np.mean(pred_ids != ref_ids))


def train(model, loader, optimizer, scheduler, epochs=1):
    history = []
    for _ in range(epochs):
        running, errs = 0.0, []
        for wav, label in loader:
            optimizer.zero_grad()
            logits = model(wav)
            loss = F.cross_entropy(logits, label)
            loss.backward()
            optimizer.step()
            running += loss.item()
            preds = logits.detach().cpu().numpy().argmax(-1)
            errs.append(error_rate(preds, label.numpy()))
        scheduler.step()
        history.append({"loss": running / len(loader), "err": float(np.mean(errs))})
    return history


def main():
    torch.manual_seed(0)
    model = FrozenSSLClassifier()
    a0 = model.adapter.weight.detach().clone()
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 64, generator=g), torch.randint(0, 5, (16,), generator=g)),
                        batch_size=4, shuffle=True, generator=g)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.9)
    train(model, loader, optimizer, scheduler)
    return {"model": model}, {"adapter_changed": not torch.equal(a0, model.adapter.weight)}

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
