import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                 nn.Conv2d(8, dim, 3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.net(x)


class SiameseSSL(pl.LightningModule):
    """Two augmented views; the predictor output chases a stop-gradient copy of the other view's embedding.
    An online linear probe on detached features tracks representation quality."""

    def __init__(self, dim=16, n_cls=4, lr=0.05):
        super().__init__()
        self.encoder = Encoder(dim)
        self.projector = nn.Sequential(nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.ReLU(), nn.Linear(dim, dim))
        self.predictor = nn.Sequential(nn.Linear(dim, dim // 2), nn.ReLU(), nn.Linear(dim // 2, dim))
        self.probe = nn.Linear(dim, n_cls)
        self.lr = lr

    @staticmethod
    def neg_cos(p, z):
        return -F.cosine_similarity(p, z.detach(), dim=-1).mean()

    def training_step(self, batch, batch_idx):
        x1, x2, y = batch
        h1, h2 = self.encoder(x1), self.encoder(x2)
        z1, z2 = self.projector(h1), self.projector(h2)
        p1, p2 = self.predictor(z1), self.predictor(z2)
        ssl_loss = 0.5 * (self.neg_cos(p1, z2) + self.neg_cos(p2, z1))
        probe_loss = F.cross_entropy(self.probe(h1.detach()), y)
        self.log_dict({"ssl": ssl_loss.item(), "probe": probe_loss.item()})
        return ssl_loss + probe_loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9, weight_decay=1e-4)


def main():
    pl.seed_everything(0)
    x = torch.randn(16, 3, 10, 10)
    x1, x2 = x + 0.1 * torch.randn_like(x), torch.flip(x, dims=[3])
    y = torch.randint(0, 4, (16,))
    model = SiameseSSL()
    enc0, probe0 = model.encoder.net[0].weight.detach().clone(), model.probe.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(
        model, DataLoader(TensorDataset(x1, x2, y), batch_size=8, shuffle=True))
    return ({"model": model},
            {"encoder_changed": not torch.equal(enc0, model.encoder.net[0].weight),
             "probe_changed": not torch.equal(probe0, model.probe.weight)})

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
