import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FeatureExtractor(nn.Module):
    def __init__(self, in_dim=20, dim=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, dim), nn.BatchNorm1d(dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU())

    def forward(self, x):
        return self.net(x)


def entropy_loss(logits):
    p = logits.softmax(-1)
    ent = -(p * p.clamp_min(1e-6).log()).sum(-1).mean()
    mean_p = p.mean(0)
    return ent + (mean_p * mean_p.clamp_min(1e-6).log()).sum()


class AdaptationModule(pl.LightningModule):
    def __init__(self, n_classes=4):
        super().__init__()
        self.encoder = FeatureExtractor()
        self.classifier = nn.Linear(32, n_classes)
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        x_src, y_src, x_tgt = batch
        opt_sup, opt_adapt = self.optimizers()
        feats = self.encoder(torch.cat([x_src, x_tgt]))
        n_src = x_src.size(0)

        sup_loss = F.cross_entropy(self.classifier(feats[:n_src]), y_src)
        opt_sup.zero_grad()
        self.manual_backward(sup_loss)
        opt_sup.step()

        ent_loss = entropy_loss(self.classifier(feats[n_src:]))
        opt_adapt.zero_grad()
        self.manual_backward(ent_loss)
        opt_adapt.step()
        self.log_dict({"sup": sup_loss, "ent": ent_loss})

    def configure_optimizers(self):
        opt_sup = torch.optim.SGD(self.parameters(), lr=1e-2, momentum=0.9)
        opt_adapt = torch.optim.SGD(self.encoder.parameters(), lr=1e-3, momentum=0.9)
        return [opt_sup, opt_adapt]


def make_loader():
    g = torch.Generator().manual_seed(8)
    x_src = torch.randn(32, 20, generator=g)
    y_src = (x_src[:, 0] > 0).long() + 2 * (x_src[:, 1] > 0).long()
    x_tgt = torch.randn(32, 20, generator=g) + 0.5
    return DataLoader(TensorDataset(x_src, y_src, x_tgt), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = AdaptationModule()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, make_loader())
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
