import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TextCNN(nn.Module):
    def __init__(self, vocab=200, emb=32, n_filters=16, n_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.convs = nn.ModuleList(nn.Conv1d(emb, n_filters, k, padding=k // 2) for k in (3, 5))
        self.fc = nn.Linear(2 * n_filters, n_classes)

    def forward(self, tokens):
        h = self.embed(tokens).transpose(1, 2)
        pooled = [F.relu(conv(h)).amax(dim=-1) for conv in self.convs]
        return self.fc(torch.cat(pooled, dim=-1))


def train_amp(model, loader, optimizer, scaler, epochs=2, dtype=torch.bfloat16):
    model.train()
    for _ in range(epochs):
        for tokens, labels in loader:
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type="cpu", dtype=dtype):
                logits = model(tokens)
            loss = F.cross_entropy(logits.float(), labels)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 200, (48, 12), generator=g)
    labels = torch.randint(0, 3, (48,), generator=g)
    loader = DataLoader(TensorDataset(tokens, labels), batch_size=16, shuffle=True, generator=g)
    model = TextCNN()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 8)
    before = model.fc.weight.detach().clone()
    train_amp(model, loader, optimizer, scaler)
    return ({"model": model},
            {"weights_changed": not torch.equal(before, model.fc.weight),
             "params_still_fp32": all(p.dtype == torch.float32 for p in model.parameters())})

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
