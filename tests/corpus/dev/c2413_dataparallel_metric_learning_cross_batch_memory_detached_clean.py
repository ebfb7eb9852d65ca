import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Embedder(nn.Module):
    def __init__(self, in_dim=24, dim=16):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Linear(64, dim)

    def forward(self, x):
        return F.normalize(self.head(self.backbone(x)), dim=-1)


class CrossBatchMemory:
    """Ring buffer of past embeddings (constants) used as extra pairs for the current batch."""

    def __init__(self, dim=16, size=48):
        self.embeddings = torch.zeros(size, dim)
        self.labels = torch.full((size,), -1, dtype=torch.long)
        self.ptr, self.size, self.filled = 0, size, 0

    def enqueue(self, emb, labels):
        n = emb.shape[0]
        idx = (torch.arange(n) + self.ptr) % self.size
        self.embeddings[idx] = emb.detach()
        self.labels[idx] = labels
        self.ptr = (self.ptr + n) % self.size
        self.filled = min(self.size, self.filled + n)

    def get(self):
        return self.embeddings[: self.filled], self.labels[: self.filled]


def contrastive_loss(emb, labels, ref_emb, ref_labels, margin=0.5):
    sim = emb @ ref_emb.T
    pos = labels[:, None] == ref_labels[None, :]
    pos_loss = ((1 - sim) * pos).sum() / pos.sum().clamp_min(1)
    neg_loss = (F.relu(sim - margin) * ~pos).sum() / (~pos).sum().clamp_min(1)
    return pos_loss + neg_loss


def train(model, loader, optimizer, memory, epochs=3):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            emb = model(x)
            mem_emb, mem_y = memory.get()
            loss = contrastive_loss(emb, y, torch.cat([emb, mem_emb]), torch.cat([y, mem_y]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            memory.enqueue(emb, y)


@torch.no_grad()
def recall_at_1(model, x, y):
    model.eval()
    emb = model(x)
    sim = emb @ emb.T - 2 * torch.eye(len(y))
    return (y[sim.argmax(1)] == y).float().mean().item()


def main():
    torch.manual_seed(0)
    centers = torch.randn(4, 24)
    y = torch.randint(0, 4, (64,))
    x = centers[y] + 0.5 * torch.randn(64, 24)
    model = nn.DataParallel(Embedder())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, drop_last=True)
    memory = CrossBatchMemory()
    w0 = model.module.head.weight.detach().clone()
    train(model, loader, optimizer, memory)
    r1 = recall_at_1(model, x, y)
    return ({"embedder": model.module},
            {"head_changed": not torch.equal(w0, model.module.head.weight.detach()),
             "memory_requires_grad": memory.embeddings.requires_grad, "recall_is_number": isinstance(r1, float)})

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
