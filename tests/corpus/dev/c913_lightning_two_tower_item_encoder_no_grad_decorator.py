import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def tower(d_in, d_out=16, hidden=32):
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class TwoTowerRetriever(pl.LightningModule):
    def __init__(self, user_dim=12, item_dim=10, temperature=0.1, catalog=None):
        super().__init__()
        self.user_tower = tower(user_dim)
        self.item_tower = tower(item_dim)
        self.temperature = temperature
        self.catalog = catalog
        self.index = None

    def encode_users(self, feats):
        return F.normalize(self.user_tower(feats), dim=-1)

    @torch.no_grad()
    def encode_items(self, feats):
        """Item embeddings; also used to (re)build the nearest-neighbour index."""
        return F.normalize(self.item_tower(feats), dim=-1)

    def training_step(self, batch, batch_idx):
        users, items = batch
        logits = self.encode_users(users) @ self.encode_items(items).t() / self.temperature
        loss = F.cross_entropy(logits, torch.arange(len(users)))
        self.log("in_batch_softmax", loss)
        return loss

    def on_train_epoch_end(self):
        self.index = self.encode_items(self.catalog)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=5e-3)


def make_loader(catalog, n=96, user_dim=12):
    g = torch.Generator().manual_seed(0)
    item_ids = torch.randint(0, len(catalog), (n,), generator=g)
    users = torch.randn(n, user_dim, generator=g) + torch.cat([catalog[item_ids], catalog[item_ids, :2]], dim=1)
    return DataLoader(TensorDataset(users, catalog[item_ids]), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    catalog = torch.randn(40, 10, generator=torch.Generator().manual_seed(1))
    model = TwoTowerRetriever(catalog=catalog)
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader(catalog))
    return {"model": model}

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
