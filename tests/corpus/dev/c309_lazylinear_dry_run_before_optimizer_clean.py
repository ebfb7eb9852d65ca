import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AudioTagger(nn.Module):
    """1-D conv front end over spectrogram frames; the head infers its input size lazily."""

    def __init__(self, n_mels=12, n_tags=5):
        super().__init__()
        self.frontend = nn.Sequential(
            nn.Conv1d(n_mels, 16, 5, padding=2), nn.GELU(), nn.MaxPool1d(2),
            nn.Conv1d(16, 16, 3, padding=1), nn.GELU(), nn.MaxPool1d(2),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.LazyLinear(32), nn.GELU(), nn.Linear(32, n_tags))

    def forward(self, spec):
        return self.head(self.frontend(spec))


def make_loader(n=40, n_mels=12, frames=24):
    g = torch.Generator().manual_seed(0)
    spec = torch.randn(n, n_mels, frames, generator=g)
    tags = (torch.rand(n, 5, generator=g) > 0.6).float()
    return DataLoader(TensorDataset(spec, tags), batch_size=8, shuffle=True, generator=g)


def materialize(model, loader):
    sample, _ = next(iter(loader))
    with torch.no_grad():
        model(sample[:1])
    return model


def train(model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for spec, tags in loader:
            optimizer.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(spec), tags)
            loss.backward()
            optimizer.step()
            scheduler.step()


def main():
    torch.manual_seed(0)
    loader = make_loader()
    model = materialize(AudioTagger(), loader)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=2 * len(loader))
    lazy_before = model.head[1].weight.detach().clone()
    train(model, loader, optimizer, scheduler)
    facts = {"lazy_head_changed": not torch.equal(lazy_before, model.head[1].weight.detach())}
    return {"model": model}, facts

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
