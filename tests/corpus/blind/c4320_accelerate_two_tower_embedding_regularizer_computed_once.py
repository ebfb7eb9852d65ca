import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TowerMLP(nn.Module):
    def __init__(self, n_ids, dim, out_dim):
        super().__init__()
        self.emb = nn.Embedding(n_ids, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, out_dim))

    def forward(self, ids):
        return F.normalize(self.mlp(self.emb(ids)), dim=-1)


class DualEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.query_tower = TowerMLP(cfg["n_users"], cfg["dim"], cfg["out_dim"])
        self.item_tower = TowerMLP(cfg["n_items"], cfg["dim"], cfg["out_dim"])
        self.log_temp = nn.Parameter(torch.tensor(2.0))
        self.l2_reg = cfg["l2_reg"]
        self.reg_loss = torch.zeros(())

    def prepare_regularizer(self, popular_items):
        """L2 penalty on the embeddings of the head items, which dominate the in-batch negatives."""
        pop = self.item_tower.emb(popular_items)
        self.reg_loss = self.l2_reg * pop.pow(2).sum(-1).mean()

    def forward(self, user_ids, item_ids):
        q = self.query_tower(user_ids)
        k = self.item_tower(item_ids)
        logits = q @ k.t() * self.log_temp.exp()
        labels = torch.arange(logits.shape[0])
        return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2


def train_one_epoch(model, loader, optimizer, accelerator):
    for user_ids, item_ids in loader:
        with accelerator.accumulate(model):
            loss = model(user_ids, item_ids) + model.reg_loss
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()


def main():
    set_seed(0)
    cfg = {"n_users": 30, "n_items": 40, "dim": 8, "out_dim": 16, "l2_reg": 1e-3, "lr": 5e-3}
    accelerator = Accelerator(gradient_accumulation_steps=1)
    model = DualEncoder(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    g = torch.Generator().manual_seed(0)
    users = torch.randint(0, cfg["n_users"], (64,), generator=g)
    items = (users * 7 + torch.randint(0, 3, (64,), generator=g)) % cfg["n_items"]
    loader = DataLoader(TensorDataset(users, items), batch_size=16, shuffle=True, generator=g)
    popular = torch.bincount(items, minlength=cfg["n_items"]).topk(5).indices
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    model.prepare_regularizer(popular)
    emb0 = model.item_tower.emb.weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, accelerator)
    return {"model": model}, {"item_emb_changed": not torch.equal(emb0, model.item_tower.emb.weight)}

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
