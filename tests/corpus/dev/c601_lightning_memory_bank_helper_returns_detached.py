import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, in_dim=16, hidden=32, out_dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, x):
        return self.net(x)


class PrototypeClassifier(pl.LightningModule):
    """Embeds samples, keeps a FIFO memory bank of recent embeddings for kNN eval, classifies with a linear head."""

    def __init__(self, num_classes=4, dim=16, bank_size=64, lr=1e-2):
        super().__init__()
        self.encoder = Encoder(out_dim=dim)
        self.head = nn.Linear(dim, num_classes)
        self.register_buffer("bank", F.normalize(torch.randn(bank_size, dim), dim=1))
        self.ptr = 0
        self.lr = lr

    def _update_bank(self, z):
        z = z.detach()
        n = z.shape[0]
        idx = torch.arange(self.ptr, self.ptr + n) % self.bank.shape[0]
        self.bank[idx] = z
        self.ptr = int((self.ptr + n) % self.bank.shape[0])
        return z

    def training_step(self, batch, batch_idx):
        x, y = batch
        z = F.normalize(self.encoder(x), dim=1)
        z = self._update_bank(z)
        loss = F.cross_entropy(self.head(z) / 0.1, y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr)


def make_loader(n=96, in_dim=16, num_classes=4):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, num_classes, (n,), generator=g)
    centers = torch.randn(num_classes, in_dim, generator=g)
    x = centers[y] + 0.3 * torch.randn(n, in_dim, generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = PrototypeClassifier()
    before = model.encoder.net[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=3, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
    return {"model": model}, {"encoder_changed": not torch.equal(before, model.encoder.net[0].weight)}

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
