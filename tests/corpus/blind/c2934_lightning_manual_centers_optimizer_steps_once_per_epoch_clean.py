import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Embedder(nn.Module):
    def __init__(self, in_dim=10, dim=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 16), nn.ReLU(), nn.Linear(16, dim))

    def forward(self, x):
        return self.net(x)


class CenterLossModule(pl.LightningModule):
    """Softmax + center loss; the class centers accumulate their gradient over the epoch and step once at its end."""

    def __init__(self, n_classes=3, dim=8, lambda_c=0.1):
        super().__init__()
        self.automatic_optimization = False
        self.embedder = Embedder(dim=dim)
        self.classifier = nn.Linear(dim, n_classes)
        self.centers = nn.Parameter(torch.randn(n_classes, dim))
        self.lambda_c = lambda_c

    def training_step(self, batch, batch_idx):
        opt_net, opt_centers = self.optimizers()
        x, y = batch
        emb = self.embedder(x)
        ce = F.cross_entropy(self.classifier(emb), y)
        center = (emb - self.centers[y]).pow(2).sum(-1).mean()
        loss = ce + self.lambda_c * center
        opt_net.zero_grad()
        self.manual_backward(loss)
        opt_net.step()
        self.log_dict({"ce": ce.detach(), "center": center.detach()})

    def on_train_epoch_end(self):
        opt_net, opt_centers = self.optimizers()
        opt_centers.step()
        opt_centers.zero_grad()

    def configure_optimizers(self):
        opt_net = torch.optim.Adam(list(self.embedder.parameters()) + list(self.classifier.parameters()), lr=3e-3)
        opt_centers = torch.optim.SGD([self.centers], lr=0.1)
        return [opt_net, opt_centers]


def make_loader(n=30):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 3
    x = torch.randn(n, 10, generator=g) + 2.0 * F.one_hot(y, 10).float()
    return DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = CenterLossModule()
    centers_before = module.centers.detach().clone()
    emb_before = module.embedder.net[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, make_loader())
    facts = {"centers_changed": not torch.equal(centers_before, module.centers),
             "embedder_changed": not torch.equal(emb_before, module.embedder.net[0].weight)}
    return {"embedder": module.embedder, "classifier": module.classifier}, facts

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
