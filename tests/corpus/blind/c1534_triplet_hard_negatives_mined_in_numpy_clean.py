import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class EmbeddingNet(nn.Module):
    def __init__(self, in_dim=24, dim=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.PReLU(), nn.Linear(32, dim))

    def forward(self, x):
        return F.normalize(self.net(x), dim=-1)


def select_hard_triplets(dist_np, labels_np, margin):
    """For every anchor-positive pair pick the hardest negative violating the margin (CPU / NumPy)."""
    triplets = []
    for label in np.unique(labels_np):
        pos_idx = np.where(labels_np == label)[0]
        neg_idx = np.where(labels_np != label)[0]
        for i in range(len(pos_idx)):
            for j in range(i + 1, len(pos_idx)):
                a, p = pos_idx[i], pos_idx[j]
                violation = dist_np[a, p] - dist_np[a, neg_idx] + margin
                if violation.max() > 0:
                    triplets.append((a, p, neg_idx[np.argmax(violation)]))
    return np.asarray(triplets, dtype=np.int64).reshape(-1, 3)


def online_triplet_loss(embeddings, labels, margin=0.3):
    dist = torch.cdist(embeddings, embeddings)
    triplets = select_hard_triplets(dist.detach().cpu().numpy(), labels.cpu().numpy(), margin)
    if len(triplets) == 0:
        return embeddings.sum() * 0.0, 0
    t = torch.as_tensor(triplets)
    losses = F.relu(dist[t[:, 0], t[:, 1]] - dist[t[:, 0], t[:, 2]] + margin)
    return losses.mean(), len(triplets)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(109)
    centers = torch.randn(4, 24, generator=g)
    y = torch.randint(0, 4, (64,), generator=g)
    x = centers[y] + 0.8 * torch.randn(64, 24, generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model = EmbeddingNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    w0 = model.net[0].weight.detach().clone()
    mined = 0
    for epoch in range(2):
        for xb, yb in loader:
            loss, n = online_triplet_loss(model(xb), yb)
            mined += n
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {"model": model}, {"embedding_changed": not torch.equal(w0, model.net[0].weight), "mined_any": mined > 0}

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
