import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class FeatureTower(nn.Module):
    def __init__(self, n_users=30, n_items=40, dim=8):
        super().__init__()
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU())

    def forward(self, users, items):
        return self.mlp(torch.cat([self.user(users), self.item(items)], dim=-1))


class CtrRanker(nn.Module):
    """Shared tower with a click head (pointwise BCE) and a ranking head (list-wise AUC objective)."""

    def __init__(self):
        super().__init__()
        self.tower = FeatureTower()
        self.click_head = nn.Linear(16, 1)
        self.rank_head = nn.Linear(16, 1)

    def forward(self, users, items):
        h = self.tower(users, items)
        return self.click_head(h).squeeze(-1), self.rank_head(h).squeeze(-1)


def batch_auc(scores, labels):
    """Mann-Whitney AUC of the batch, the metric the ranking head is judged by."""
    s = scores.detach().cpu().numpy()
    y = labels.detach().cpu().numpy().astype(bool)
    pos, neg = s[y], s[~y]
    if len(pos) == 0 or len(neg) == 0:
        return 0.5
    diff = pos[:, None] - neg[None, :]
    return float((diff > 0).mean() + 0.5 * (diff == 0).mean())


def auc_surrogate_loss(scores, labels, margin=1.0):
    """1 - smoothed AUC: sigmoid of the pairwise margins, averaged over positive/negative pairs."""
    s = scores.detach().cpu().numpy()
    y = labels.cpu().numpy().astype(bool)
    diff = s[y][:, None] - s[~y][None, :]
    smooth_auc = 1.0 / (1.0 + np.exp(-margin * diff))
    return torch.as_tensor(1.0 - smooth_auc.mean(), dtype=torch.float32)


def make_data(n=64):
    g = torch.Generator().manual_seed(0)
    users = torch.randint(0, 30, (n,), generator=g)
    items = torch.randint(0, 40, (n,), generator=g)
    clicks = ((users + items) % 3 == 0).float()
    return TensorDataset(users, items, clicks)


def train(config):
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=config["accum"])
    model = CtrRanker()
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    loader = DataLoader(make_data(), batch_size=16, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    rank_before = model.rank_head.weight.detach().clone()
    click_before = model.click_head.weight.detach().clone()
    aucs = []
    for epoch in range(config["epochs"]):
        for users, items, clicks in loader:
            with accelerator.accumulate(model):
                click_logit, rank_score = model(users, items)
                loss = F.binary_cross_entropy_with_logits(click_logit, clicks)
                loss = loss + config["rank_weight"] * auc_surrogate_loss(rank_score, clicks)
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
            aucs.append(batch_auc(rank_score, clicks))
    return model, (rank_before, click_before), aucs


def main():
    config = {"lr": 5e-2, "epochs": 2, "accum": 2, "rank_weight": 0.5}
    model, (rank_before, click_before), aucs = train(config)
    facts = {"rank_head_changed": not torch.equal(rank_before, model.rank_head.weight),
             "click_head_changed": not torch.equal(click_before, model.click_head.weight)}
    return {}, facts

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
