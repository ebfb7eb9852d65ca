import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ChurnNet(nn.Module):
    def __init__(self, n_num=6, n_plans=5, dim=8):
        super().__init__()
        self.plan = nn.Embedding(n_plans, dim)
        self.mlp = nn.Sequential(nn.Linear(n_num + dim, 32), nn.ReLU(), nn.Linear(32, 2))

    def forward(self, num, plan):
        return self.mlp(torch.cat([num, self.plan(plan)], dim=1))


def to_np(x):
    return x.detach().cpu().numpy()


def class_weights_from_labels(labels):
    counts = np.bincount(labels.numpy(), minlength=2).astype(np.float64)
    w = counts.sum() / (2.0 * np.maximum(counts, 1.0))
    return torch.as_tensor(w, dtype=torch.float32)


def train(model, loader, optimizer, weights, epochs=2):
    history = []
    for epoch in range(epochs):
        model.train()
        probs, ys, losses = [], [], []
        for num, plan, y in loader:
            optimizer.zero_grad()
            logits = model(num, plan)
            loss = F.cross_entropy(logits, y, weight=weights)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            probs.append(to_np(torch.softmax(logits, dim=1)[:, 1]))
            ys.append(to_np(y))
        p, t = np.concatenate(probs), np.concatenate(ys)
        recall = float(((p > 0.5) & (t == 1)).sum() / max((t == 1).sum(), 1))
        history.append({"loss": float(np.mean(losses)), "recall": recall})
    return history


def main():
    torch.manual_seed(0)
    num = torch.randn(64, 6)
    plan = torch.randint(0, 5, (64,))
    churn = ((num[:, 0] + 0.5 * num[:, 1]) > 1.0).long()
    loader = DataLoader(TensorDataset(num, plan, churn), batch_size=16, shuffle=True)
    model = ChurnNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    weights = class_weights_from_labels(churn)
    w0 = model.mlp[0].weight.detach().clone()
    history = train(model, loader, optimizer, weights)
    return ({"model": model},
            {"mlp_changed": not torch.equal(w0, model.mlp[0].weight), "epochs_logged": len(history)})

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
