import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class AttentionPool(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.score = nn.Linear(d, 1)

    def forward(self, h):
        w = torch.softmax(self.score(h).squeeze(-1), dim=1)
        return (w.unsqueeze(-1) * h).sum(1)


class SpeakerIntentModel(pl.LightningModule):
    def __init__(self, n_mels=20, d=32, n_classes=6, lr=1e-3):
        super().__init__()
        self.frontend = nn.Sequential(nn.Conv1d(n_mels, d, 5, padding=2), nn.GELU())
        self.encoder = nn.GRU(d, d, batch_first=True)
        self.attn_pool = AttentionPool(d)
        self.head = nn.Linear(d, n_classes)
        self.lr = lr

    def forward(self, mel):
        h = self.frontend(mel).transpose(1, 2)
        h, _ = self.encoder(h)
        return self.head(self.attn_pool(h))

    def training_step(self, batch, batch_idx):
        mel, y = batch
        loss = F.cross_entropy(self(mel), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam([
            {"params": list(self.frontend.parameters()) + list(self.encoder.parameters()), "lr": self.lr},
            {"params": self.head.parameters(), "lr": self.lr * 10},
        ])


def make_loader(n=64, n_mels=20, frames=30, n_classes=6):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, n_classes, (n,), generator=g)
    mel = torch.randn(n, n_mels, frames, generator=g)
    mel[torch.arange(n), y] += 2.0
    return DataLoader(TensorDataset(mel, y), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = SpeakerIntentModel()
    pool_before = model.attn_pool.score.weight.detach().clone()
    head_before = model.head.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
    in_opt = {id(p) for g in trainer.optimizers[0].param_groups for p in g["params"]}
    facts = {
        "attn_pool_changed": not torch.equal(pool_before, model.attn_pool.score.weight),
        "attn_pool_in_optimizer": id(model.attn_pool.score.weight) in in_opt,
        "head_changed": not torch.equal(head_before, model.head.weight),
    }
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
