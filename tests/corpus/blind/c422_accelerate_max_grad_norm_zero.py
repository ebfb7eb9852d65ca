import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from accelerate import Accelerator

DEFAULTS = {"lr": 1e-3, "epochs": 2, "batch_size": 16, "max_grad_norm": 0.0, "grad_accum": 1}


class TextCNN(nn.Module):
    def __init__(self, vocab=100, emb=24, ch=16, n_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=0)
        self.convs = nn.ModuleList([nn.Conv1d(emb, ch, k, padding=k // 2) for k in (3, 5)])
        self.fc = nn.Linear(2 * ch, n_classes)

    def forward(self, ids):
        h = self.embed(ids).transpose(1, 2)
        pooled = [F.relu(conv(h)).amax(-1) for conv in self.convs]
        return self.fc(torch.cat(pooled, dim=-1))


def make_loader(cfg, n=96, seq=12):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 100, (n, seq), generator=g)
    labels = ids[:, 0] % 3
    return DataLoader(TensorDataset(ids, labels), batch_size=cfg["batch_size"], shuffle=True, generator=g)


def train(cfg):
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=cfg["grad_accum"])
    torch.manual_seed(0)
    model = TextCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader(cfg))
    embed_before = model.embed.weight.detach().clone()
    for epoch in range(cfg["epochs"]):
        for ids, labels in loader:
            with accelerator.accumulate(model):
                optimizer.zero_grad()
                loss = F.cross_entropy(model(ids), labels)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), cfg["max_grad_norm"])
                optimizer.step()
    changed = not torch.equal(embed_before, model.embed.weight.detach())
    return model, changed


def main():
    cfg = dict(DEFAULTS)
    model, changed = train(cfg)
    return {"model": model}, {"embedding_changed": changed}

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
