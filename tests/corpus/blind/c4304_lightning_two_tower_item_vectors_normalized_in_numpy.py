import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, Dataset


def l2_normalize(emb):
    """Unit-normalise embeddings the same way the serving index does (faiss.normalize_L2 works on numpy)."""
    arr = emb.detach().cpu().numpy().astype("float32")
    arr /= np.linalg.norm(arr, axis=1, keepdims=True) + 1e-8
    return torch.from_numpy(arr)


class Tower(nn.Module):
    def __init__(self, n_ids, n_cats, dim, out_dim):
        super().__init__()
        self.id_emb = nn.Embedding(n_ids, dim)
        self.cat_emb = nn.Embedding(n_cats, dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 32), nn.ReLU(), nn.Linear(32, out_dim))

    def forward(self, ids, cats):
        return self.mlp(torch.cat([self.id_emb(ids), self.cat_emb(cats)], -1))


class TwoTowerRetriever(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.user_tower = Tower(cfg["n_users"], cfg["n_user_segments"], cfg["dim"], cfg["out_dim"])
        self.item_tower = Tower(cfg["n_items"], cfg["n_item_cats"], cfg["dim"], cfg["out_dim"])
        self.temperature = cfg["temperature"]
        self.lr = cfg["lr"]

    def encode_users(self, batch):
        return F.normalize(self.user_tower(batch["user_id"], batch["user_segment"]), dim=-1)

    def encode_items(self, batch):
        return l2_normalize(self.item_tower(batch["item_id"], batch["item_cat"]))

    def training_step(self, batch, batch_idx):
        u = self.encode_users(batch)
        v = self.encode_items(batch)
        logits = u @ v.t() / self.temperature
        logq = torch.log(batch["item_freq"])
        logits = logits - logq[None, :]
        labels = torch.arange(logits.shape[0])
        loss = F.cross_entropy(logits, labels)
        self.log("train/in_batch_ce", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adagrad(self.parameters(), lr=self.lr)


class Interactions(Dataset):
    def __init__(self, n=96, cfg=None, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.user_id = torch.randint(0, cfg["n_users"], (n,), generator=g)
        self.user_segment = self.user_id % cfg["n_user_segments"]
        self.item_cat = self.user_segment % cfg["n_item_cats"]
        self.item_id = self.item_cat * (cfg["n_items"] // cfg["n_item_cats"]) + torch.randint(0, 5, (n,), generator=g)
        counts = torch.bincount(self.item_id, minlength=cfg["n_items"]).float()
        self.item_freq = (counts / counts.sum())[self.item_id]

    def __len__(self):
        return len(self.user_id)

    def __getitem__(self, k):
        return {"user_id": self.user_id[k], "user_segment": self.user_segment[k], "item_id": self.item_id[k],
                "item_cat": self.item_cat[k], "item_freq": self.item_freq[k]}


def main():
    pl.seed_everything(0)
    cfg = {"n_users": 40, "n_user_segments": 4, "n_items": 40, "n_item_cats": 4, "dim": 8, "out_dim": 16,
           "temperature": 0.1, "lr": 0.05}
    model = TwoTowerRetriever(cfg)
    item0 = model.item_tower.mlp[0].weight.detach().clone()
    user0 = model.user_tower.mlp[0].weight.detach().clone()
    loader = DataLoader(Interactions(cfg=cfg), batch_size=16, shuffle=True)
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {
        "item_tower_changed": not torch.equal(item0, model.item_tower.mlp[0].weight),
        "user_tower_changed": not torch.equal(user0, model.user_tower.mlp[0].weight),
    }

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
