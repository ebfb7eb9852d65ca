import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TinyTextTransformer(nn.Module):
    def __init__(self, vocab=100, dim=16, n_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.attn_norm = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, 32), nn.GELU(), nn.Linear(32, dim))
        self.ffn_norm = nn.LayerNorm(dim)
        self.classifier = nn.Linear(dim, n_classes)

    def forward(self, tokens):
        h = self.embedding(tokens)
        h = self.attn_norm(h + self.attn(h, h, h, need_weights=False)[0])
        h = self.ffn_norm(h + self.ffn(h))
        return self.classifier(h.mean(dim=1))


NO_DECAY_KEYS = ("bias", "norm")


def param_groups(model, weight_decay):
    """AdamW groups: decay the weight matrices, leave biases and normalization parameters undecayed."""
    decay = [p for n, p in model.named_parameters() if "weight" in n]
    no_decay = [p for n, p in model.named_parameters() if any(k in n for k in NO_DECAY_KEYS)]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def build_optimizer(model, lr=3e-3, weight_decay=0.05):
    return torch.optim.AdamW(param_groups(model, weight_decay), lr=lr)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(19)
    tokens = torch.randint(0, 100, (32, 12), generator=g)
    labels = (tokens < 50).float().mean(1).gt(0.5).long()
    loader = DataLoader(TensorDataset(tokens, labels), batch_size=8, shuffle=True, generator=g)
    model = TinyTextTransformer()
    optimizer = build_optimizer(model)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=len(loader))
    compiled = torch.compile(model, backend="eager")
    for tokens, labels in loader:
        optimizer.zero_grad()
        F.cross_entropy(compiled(tokens), labels).backward()
        optimizer.step()
        scheduler.step()
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
