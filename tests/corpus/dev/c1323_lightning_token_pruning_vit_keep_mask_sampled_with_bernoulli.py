import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TokenScorer(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.mlp = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim // 2), nn.GELU(), nn.Linear(dim // 2, 1))

    def forward(self, tokens):
        return torch.sigmoid(self.mlp(tokens)).squeeze(-1)


class PrunedViT(pl.LightningModule):
    def __init__(self, dim=16, n_tokens=9, n_classes=4, keep_ratio=0.6):
        super().__init__()
        self.embed = nn.Linear(12, dim)
        self.pos = nn.Parameter(torch.randn(1, n_tokens, dim) * 0.02)
        self.block1 = nn.TransformerEncoderLayer(dim, 4, 32, dropout=0.0, batch_first=True)
        self.scorer = TokenScorer(dim)
        self.block2 = nn.TransformerEncoderLayer(dim, 4, 32, dropout=0.0, batch_first=True)
        self.head = nn.Linear(dim, n_classes)
        self.keep_ratio = keep_ratio

    def forward(self, patches):
        x = self.block1(self.embed(patches) + self.pos)
        keep_prob = self.scorer(x)
        keep = torch.bernoulli(keep_prob) if self.training else (keep_prob > 0.5).float()
        x = self.block2(x * keep.unsqueeze(-1))
        pooled = (x * keep.unsqueeze(-1)).sum(1) / keep.sum(1, keepdim=True).clamp_min(1.0)
        return self.head(pooled), keep_prob, keep

    def training_step(self, batch, batch_idx):
        patches, labels = batch
        logits, keep_prob, keep = self(patches)
        ratio_loss = (keep.mean(1) - self.keep_ratio).pow(2).mean()
        return F.cross_entropy(logits, labels) + 2.0 * ratio_loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=1e-3, weight_decay=0.0)


def make_loader():
    g = torch.Generator().manual_seed(13)
    patches = torch.randn(32, 9, 12, generator=g)
    return DataLoader(TensorDataset(patches, (patches[:, 0, 0] > 0).long() * 2), batch_size=8, shuffle=True,
                      generator=g)


class KeepGrads(pl.Callback):
    def __init__(self):
        self.scorer_grad = None

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self.scorer_grad = pl_module.scorer.mlp[1].weight.grad.detach().clone()


def main():
    pl.seed_everything(0)
    model = PrunedViT()
    cb = KeepGrads()
    scorer0 = model.scorer.mlp[1].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, callbacks=[cb]).fit(model, make_loader())
    facts = {"scorer_changed": not torch.equal(scorer0, model.scorer.mlp[1].weight),
             "scorer_grad_all_zero": bool(cb.scorer_grad.abs().sum() == 0)}
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
