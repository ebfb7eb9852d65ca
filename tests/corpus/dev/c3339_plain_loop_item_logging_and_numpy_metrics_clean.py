import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split


class ChurnModel(nn.Module):
    def __init__(self, n_num=8, n_plans=5, emb=4, hidden=32):
        super().__init__()
        self.plan_emb = nn.Embedding(n_plans, emb)
        self.body = nn.Sequential(nn.Linear(n_num + emb, hidden), nn.ReLU(), nn.Dropout(0.1),
                                  nn.Linear(hidden, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, 1)

    def forward(self, num, plan):
        return self.out(self.body(torch.cat([num, self.plan_emb(plan)], -1))).squeeze(-1)


def roc_auc(scores, labels):
    order = np.argsort(-scores)
    labels = labels[order]
    tp = np.cumsum(labels)
    fp = np.cumsum(1 - labels)
    tpr = tp / max(tp[-1], 1)
    fpr = fp / max(fp[-1], 1)
    return float(np.trapezoid(tpr, fpr)) if hasattr(np, "trapezoid") else float(np.trapz(tpr, fpr))


def make_data(n=160):
    g = torch.Generator().manual_seed(0)
    num = torch.randn(n, 8, generator=g)
    plan = torch.randint(0, 5, (n,), generator=g)
    y = ((num[:, 0] - num[:, 1] + 0.3 * plan.float()) > 0.5).float()
    return TensorDataset(num, plan, y)


def main():
    torch.manual_seed(0)
    train_ds, val_ds = random_split(make_data(), [128, 32], generator=torch.Generator().manual_seed(1))
    train_loader = DataLoader(train_ds, batch_size=32, shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=32)
    model = ChurnModel()
    pos_weight = torch.tensor(1.5)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    history = {"loss": [], "auc": []}
    for epoch in range(3):
        model.train()
        running = 0.0
        for num, plan, y in train_loader:
            logits = model(num, plan)
            loss = F.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running += loss.item() * y.size(0)
        history["loss"].append(running / len(train_ds))
        model.eval()
        scores, labels = [], []
        for num, plan, y in val_loader:
            scores.append(torch.sigmoid(model(num, plan)).detach().cpu().numpy())
            labels.append(y.numpy())
        history["auc"].append(roc_auc(np.concatenate(scores), np.concatenate(labels)))
    facts = {"loss_went_down": history["loss"][-1] < history["loss"][0]}
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
