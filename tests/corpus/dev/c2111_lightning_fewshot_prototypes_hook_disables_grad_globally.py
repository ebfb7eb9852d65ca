import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvEmbedder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(8, dim, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.net(x)


def compute_prototypes(embedder, support_x, support_y, n_way):
    """Class means of the support set; no gradients needed for the bank."""
    torch.set_grad_enabled(False)
    feats = embedder(support_x)
    protos = torch.stack([feats[support_y == c].mean(0) for c in range(n_way)])
    return F.normalize(protos, dim=1)


class PrototypicalClassifier(pl.LightningModule):
    def __init__(self, support_x, support_y, n_way=4, lr=1e-2):
        super().__init__()
        self.embedder = ConvEmbedder()
        self.scale = nn.Parameter(torch.tensor(10.0))
        self.register_buffer("support_x", support_x)
        self.register_buffer("support_y", support_y)
        self.n_way, self.lr = n_way, lr
        self.register_buffer("prototypes", torch.zeros(n_way, 16))

    def on_train_epoch_start(self):
        self.prototypes = compute_prototypes(self.embedder, self.support_x, self.support_y, self.n_way)

    def training_step(self, batch, batch_idx):
        x, y = batch
        q = F.normalize(self.embedder(x), dim=1)
        logits = self.scale * q @ self.prototypes.t()
        loss = F.cross_entropy(logits, y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)


def main():
    pl.seed_everything(0)
    support_x, support_y = torch.randn(12, 1, 10, 10), torch.arange(12) % 4
    x, y = torch.randn(24, 1, 10, 10), torch.randint(0, 4, (24,))
    model = PrototypicalClassifier(support_x, support_y)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(TensorDataset(x, y), batch_size=8))
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
