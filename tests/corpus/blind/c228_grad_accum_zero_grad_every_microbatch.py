import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class WakeWordNet(nn.Module):
    """Small temporal CNN over log-mel frames -> wake word / background."""

    def __init__(self, n_mels=16, ch=16):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, ch, 5, padding=2), nn.BatchNorm1d(ch), nn.ReLU(),
                                  nn.Conv1d(ch, ch, 5, padding=2, dilation=1), nn.ReLU())
        self.fc = nn.Linear(ch, 1)

    def forward(self, mels):
        return self.fc(self.conv(mels).mean(-1)).squeeze(-1)


def train(model, loader, optimizer, scaler, accumulation_steps=4):
    model.train()
    for step, (mels, labels) in enumerate(loader):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(mels)
        loss = F.binary_cross_entropy_with_logits(logits.float(), labels) / accumulation_steps
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if (step + 1) % accumulation_steps == 0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()


def only_last_microbatch_in_grad(model, mels, labels):
    stored = model.fc.weight.grad.flatten()
    model.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(mels)
    F.binary_cross_entropy_with_logits(logits.float(), labels).backward()
    fresh = model.fc.weight.grad.flatten()
    return bool(F.cosine_similarity(stored, fresh, dim=0) > 0.999)


def main():
    torch.manual_seed(0)
    mels, labels = torch.randn(40, 16, 20), (torch.rand(40) > 0.7).float()
    loader = DataLoader(TensorDataset(mels, labels), batch_size=4, shuffle=False)
    model = WakeWordNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cpu")
    train(model, loader, optimizer, scaler)
    return {"model": model}, {"only_last_microbatch_in_grad": only_last_microbatch_in_grad(model, mels[-4:], labels[-4:])}

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
