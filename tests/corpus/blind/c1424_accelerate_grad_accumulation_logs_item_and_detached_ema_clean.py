import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SpeakerClassifier(nn.Module):
    def __init__(self, n_mels=16, hidden=24, n_speakers=4):
        super().__init__()
        self.frontend = nn.Conv1d(n_mels, hidden, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.head = nn.Linear(hidden, n_speakers)

    def forward(self, mels):
        return self.head(self.pool(F.relu(self.frontend(mels))).squeeze(-1))


class LossTracker:
    def __init__(self, beta=0.9):
        self.beta, self.ema, self.total, self.count = beta, None, 0.0, 0

    def update(self, loss):
        value = loss.detach()
        self.ema = value if self.ema is None else self.beta * self.ema + (1 - self.beta) * value
        self.total += loss.item()
        self.count += 1


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = SpeakerClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 4) * 0.5 * (1 + math.cos(math.pi * s / 20)))
    g = torch.Generator().manual_seed(25)
    loader = DataLoader(TensorDataset(torch.randn(48, 16, 20, generator=g), torch.randint(0, 4, (48,), generator=g)),
                        batch_size=6, shuffle=True, generator=g)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    tracker = LossTracker()
    head0 = model.head.weight.detach().clone()
    model.train()
    for mels, speaker in loader:
        with accelerator.accumulate(model):
            loss = F.cross_entropy(model(mels), speaker)
            accelerator.backward(loss)
            tracker.update(loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
    accelerator.print(f"mean loss {tracker.total / tracker.count:.3f}, ema {float(tracker.ema):.3f}")
    return ({"model": model},
            {"head_changed": not torch.equal(head0, model.head.weight), "ema_is_graph_free": tracker.ema.grad_fn is None})

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
