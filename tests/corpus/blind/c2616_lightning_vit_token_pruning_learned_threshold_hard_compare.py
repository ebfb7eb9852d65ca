import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning as L
from torch.utils.data import DataLoader, TensorDataset


class TokenPruner(nn.Module):
    """Learned token pruning: drop patch tokens whose importance falls below a learned threshold."""

    def __init__(self, dim):
        super().__init__()
        self.score = nn.Linear(dim, 1)
        self.threshold = nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        importance = torch.sigmoid(self.score(x)).squeeze(-1)
        keep = (importance > torch.sigmoid(self.threshold)).float()
        keep[:, 0] = 1.0  # never drop the CLS token
        return x * keep.unsqueeze(-1), keep


class PrunedViT(nn.Module):
    def __init__(self, patch=4, dim=16, n_classes=5):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.block1 = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
        self.pruner = TokenPruner(dim)
        self.block2 = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, images):
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x, keep = self.pruner(self.block1(x))
        x = self.block2(x)
        return self.head(x[:, 0]), keep


class PruningClassifier(L.LightningModule):
    def __init__(self, target_keep=0.5, sparsity_weight=1.0, lr=1e-3):
        super().__init__()
        self.model = PrunedViT()
        self.target_keep, self.sparsity_weight, self.lr = target_keep, sparsity_weight, lr

    def training_step(self, batch, batch_idx):
        images, labels = batch
        logits, keep = self.model(images)
        ce = F.cross_entropy(logits, labels)
        sparsity = (keep[:, 1:].mean() - self.target_keep) ** 2
        self.log_dict({"ce": ce, "kept_ratio": keep.mean()})
        return ce + self.sparsity_weight * sparsity

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr)


def main():
    L.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.rand(8, 3, 16, 16, generator=g), torch.randint(0, 5, (8,), generator=g))
    module = PruningClassifier()
    L.Trainer(max_epochs=1, logger=False).fit(module, DataLoader(ds, batch_size=4))
    return {"pruner": module.model.pruner, "head": module.model.head}

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
