import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class CrossBatchMemory:
    """XBM: keep embeddings of recent batches as extra negatives/positives."""

    def __init__(self, size=48, dim=16):
        self.feats = torch.zeros(0, dim)
        self.labels = torch.zeros(0, dtype=torch.long)
        self.size = size

    def enqueue(self, feats, labels):
        self.feats = torch.cat([feats, self.feats])[: self.size]
        self.labels = torch.cat([labels, self.labels])[: self.size]


class EmbeddingNet(nn.Module):
    def __init__(self, in_dim=20, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 64), nn.ReLU(), nn.Linear(64, dim))

    def forward(self, x):
        return F.normalize(self.net(x), dim=-1)


def contrastive_loss(anchors, anchor_labels, bank, bank_labels, margin=0.5):
    sim = anchors @ bank.t()
    pos = (anchor_labels[:, None] == bank_labels[None, :]).float()
    return ((1 - sim) * pos + F.relu(sim - margin) * (1 - pos)).mean()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 5, (64,), generator=g)
    x = torch.randn(64, 20, generator=g) + F.one_hot(y, 20).float() * 2
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g))
    model = EmbeddingNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    memory = CrossBatchMemory()
    for xb, yb in loader:
        emb = model(xb)
        memory.enqueue(emb, yb)
        loss = contrastive_loss(emb, yb, memory.feats, memory.labels)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}

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
