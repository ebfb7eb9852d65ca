import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


def load_pretrained_vectors(vocab=100, dim=16, seed=35):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(vocab, dim, generator=g)


class TextCNN(nn.Module):
    def __init__(self, vectors, n_classes=3, n_filters=12, kernel_sizes=(2, 3)):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(vectors.clone(), freeze=False)
        self.embedding.weight.requires_grad = False
        dim = vectors.shape[1]
        self.convs = nn.ModuleList([nn.Conv1d(dim, n_filters, k) for k in kernel_sizes])
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(n_filters * len(kernel_sizes), n_classes)

    def forward(self, ids):
        x = self.embedding(ids).transpose(1, 2)
        pooled = [F.relu(conv(x)).max(-1).values for conv in self.convs]
        return self.fc(self.dropout(torch.cat(pooled, dim=1)))


def make_loader(n=48, seq=8, bs=8):
    g = torch.Generator().manual_seed(36)
    ids = torch.randint(0, 100, (n, seq), generator=g)
    y = (ids[:, 0] % 3)
    return DataLoader(TensorDataset(ids, y), batch_size=bs, shuffle=True)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = TextCNN(load_pretrained_vectors())
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=2e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    emb0 = model.embedding.weight.detach().clone()
    conv0 = model.convs[0].weight.detach().clone()
    model.train()
    for _ in range(2):
        for ids, y in loader:
            with accelerator.accumulate(model):
                loss = F.cross_entropy(model(ids), y)
                accelerator.backward(loss)
                accelerator.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                optimizer.zero_grad()
    return {"model": model}, {
        "embedding_unchanged": torch.equal(emb0, model.embedding.weight),
        "convs_changed": not torch.equal(conv0, model.convs[0].weight),
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
