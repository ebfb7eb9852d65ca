import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class NeuralCF(nn.Module):
    def __init__(self, n_users=20, n_items=40, dim=12):
        super().__init__()
        self.user_emb = nn.Embedding(n_users, dim)
        self.item_emb = nn.Embedding(n_items, dim)
        self.scorer = nn.Sequential(nn.Linear(2 * dim, 16), nn.ReLU(), nn.Linear(16, 1))
        nn.init.normal_(self.user_emb.weight, std=0.1)
        nn.init.normal_(self.item_emb.weight, std=0.1)

    def score(self, users, items):
        return self.scorer(torch.cat([self.user_emb(users), self.item_emb(items)], dim=-1)).squeeze(-1)


class BPRRecommender(pl.LightningModule):
    def __init__(self, reg=1e-4, lr=5e-3):
        super().__init__()
        self.model = NeuralCF()
        self.reg, self.lr = reg, lr

    def per_user_bpr(self, users, pos, neg):
        diff = self.model.score(users, pos) - self.model.score(users, neg)
        user_losses = []
        for u in users.unique():
            sel = users == u
            user_losses.append(-F.logsigmoid(diff[sel]).mean())  # each user weighs the same
        return torch.tensor(user_losses).mean()

    def training_step(self, batch, batch_idx):
        users, pos, neg = batch
        bpr = self.per_user_bpr(users, pos, neg)
        l2 = self.model.user_emb(users).pow(2).sum() + self.model.item_emb(pos).pow(2).sum() \
            + self.model.item_emb(neg).pow(2).sum()
        loss = bpr + self.reg * l2 / len(users)
        self.log("train/bpr", bpr)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    users = torch.randint(0, 20, (64,), generator=g)
    pos = (users * 2) % 40
    neg = torch.randint(0, 40, (64,), generator=g)
    loader = DataLoader(TensorDataset(users, pos, neg), batch_size=16, shuffle=True, generator=g)
    rec = BPRRecommender()
    s0 = rec.model.scorer[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(rec, loader)
    return {"rec": rec}, {"scorer_changed": not torch.equal(s0, rec.model.scorer[0].weight)}

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
