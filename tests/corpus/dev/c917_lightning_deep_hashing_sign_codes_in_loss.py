import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class DeepHashing(pl.LightningModule):
    def __init__(self, in_dim=32, n_bits=16, n_classes=4, lr=1e-3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.hash_layer = nn.Linear(64, n_bits)
        self.classifier = nn.Linear(n_bits, n_classes)
        self.n_bits, self.lr = n_bits, lr

    def codes(self, x):
        return torch.sign(self.hash_layer(self.encoder(x)))

    def pairwise_loss(self, b, y):
        target = (y[:, None] == y[None, :]).float() * 2 - 1
        return F.mse_loss(b @ b.t() / self.n_bits, target)

    def training_step(self, batch, batch_idx):
        x, y = batch
        b = self.codes(x)
        loss = self.pairwise_loss(b, y) + 0.5 * F.cross_entropy(self.classifier(b), y)
        self.log("hash_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def make_loader(n=96, in_dim=32, n_classes=4):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, n_classes, (n,), generator=g)
    centers = torch.randn(n_classes, in_dim, generator=g)
    x = centers[y] + 0.5 * torch.randn(n, in_dim, generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=24, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = DeepHashing()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
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
