import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ItemFeatureStore:
    """Owns the item-side lookup tables (id -> embedding, id -> popularity bias)."""

    def __init__(self, n_items, dim):
        self.table = nn.Embedding(n_items, dim)
        self.bias = nn.Embedding(n_items, 1)
        nn.init.normal_(self.table.weight, std=0.1)
        nn.init.zeros_(self.bias.weight)

    def lookup(self, item_ids):
        return self.table(item_ids), self.bias(item_ids).squeeze(-1)


class UserTower(nn.Module):
    def __init__(self, n_feats=10, dim=8):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(n_feats, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, feats):
        return self.mlp(feats)


class ClickModel(pl.LightningModule):
    def __init__(self, n_items=40, dim=8):
        super().__init__()
        self.user_tower = UserTower(dim=dim)
        self.items = ItemFeatureStore(n_items, dim)

    def forward(self, user_feats, item_ids):
        u = self.user_tower(user_feats)
        v, b = self.items.lookup(item_ids)
        return (u * v).sum(-1) + b

    def training_step(self, batch, batch_idx):
        user_feats, item_ids, clicked = batch
        loss = F.binary_cross_entropy_with_logits(self(user_feats, item_ids), clicked)
        self.log("bce", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def make_loader(n=96):
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(n, 10, generator=g)
    items = torch.randint(0, 40, (n,), generator=g)
    clicked = ((feats[:, 0] > 0) ^ (items % 2 == 0)).float()
    return DataLoader(TensorDataset(feats, items, clicked), batch_size=32, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = ClickModel()
    table_before = model.items.table.weight.detach().clone()
    user_before = model.user_tower.mlp[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
    facts = {
        "item_table_changed": not torch.equal(table_before, model.items.table.weight),
        "item_table_is_model_parameter": any(p is model.items.table.weight for p in model.parameters()),
        "user_tower_changed": not torch.equal(user_before, model.user_tower.mlp[0].weight),
    }
    return {"model": model, "item_table": model.items.table.weight}, facts

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
