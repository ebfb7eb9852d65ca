import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, Dataset

FEATURES = {"item_id": 50, "category": 8, "brand": 12}


class FeatureEmbedding(nn.Module):
    """One embedding table per sparse feature; item features are concatenated."""

    def __init__(self, features, dim):
        super().__init__()
        self.embedding_tables = {name: nn.Embedding(card, dim, padding_idx=0) for name, card in features.items()}
        self.out_dim = dim * len(features)

    def forward(self, feats):
        return torch.cat([self.embedding_tables[name](feats[name]) for name in self.embedding_tables], -1)


class InterestExtractor(nn.Module):
    def __init__(self, in_dim, hidden):
        super().__init__()
        self.gru = nn.GRU(in_dim, hidden, batch_first=True)
        self.att = nn.Sequential(nn.Linear(hidden + in_dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, hist, target, mask):
        states, _ = self.gru(hist)
        tgt = target.unsqueeze(1).expand(-1, states.shape[1], -1)
        scores = self.att(torch.cat([states, tgt], -1)).squeeze(-1)
        scores = scores.masked_fill(~mask, -1e4)
        weights = torch.softmax(scores, -1).unsqueeze(-1)
        return (weights * states).sum(1)


class DIENRanker(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.features = FeatureEmbedding(FEATURES, cfg["dim"])
        d = self.features.out_dim
        self.interest = InterestExtractor(d, cfg["hidden"])
        self.mlp = nn.Sequential(nn.Linear(cfg["hidden"] + d, 32), nn.ReLU(), nn.Linear(32, 1))
        self.lr = cfg["lr"]

    def forward(self, batch):
        hist = self.features({k: batch["hist_" + k] for k in FEATURES})
        target = self.features({k: batch["target_" + k] for k in FEATURES})
        mask = batch["hist_item_id"] != 0
        interest = self.interest(hist, target, mask)
        return self.mlp(torch.cat([interest, target], -1)).squeeze(-1)

    def training_step(self, batch, batch_idx):
        logits = self(batch)
        loss = F.binary_cross_entropy_with_logits(logits, batch["label"])
        self.log("train/bce", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


class ClickLogs(Dataset):
    def __init__(self, n=64, hist_len=5, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.rows = []
        for _ in range(n):
            row = {}
            for k, card in FEATURES.items():
                row["hist_" + k] = torch.randint(1, card, (hist_len,), generator=g)
                row["target_" + k] = torch.randint(1, card, (), generator=g)
            row["label"] = (row["target_category"] == row["hist_category"][-1]).float()
            self.rows.append(row)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, k):
        return self.rows[k]


def main():
    pl.seed_everything(0)
    cfg = {"dim": 8, "hidden": 16, "lr": 5e-3}
    model = DIENRanker(cfg)
    item_table = model.features.embedding_tables["item_id"]
    item0 = item_table.weight.detach().clone()
    mlp0 = model.mlp[0].weight.detach().clone()
    loader = DataLoader(ClickLogs(), batch_size=16, shuffle=True)
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model, "item_table": item_table}, {
        "item_table_changed": not torch.equal(item0, item_table.weight),
        "mlp_changed": not torch.equal(mlp0, model.mlp[0].weight),
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
