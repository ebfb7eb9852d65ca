import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning.pytorch as pl


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.alpha, None


class DANN(pl.LightningModule):
    def __init__(self, in_dim=10, feat=16, n_classes=3, alpha=0.5):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, feat), nn.ReLU())
        self.label_clf = nn.Linear(feat, n_classes)
        self.domain_clf = nn.Sequential(nn.Linear(feat, 16), nn.ReLU(), nn.Linear(16, 1))
        self.alpha = alpha

    def training_step(self, batch, batch_idx):
        xs, ys, xt = batch
        fs, ft = self.features(xs), self.features(xt)
        cls_loss = F.cross_entropy(self.label_clf(fs), ys)
        feats = torch.cat([fs, ft])
        domain = torch.cat([torch.zeros(len(fs), 1), torch.ones(len(ft), 1)])
        dom_logits = self.domain_clf(GradReverse.apply(feats, self.alpha))
        dom_loss = F.binary_cross_entropy_with_logits(dom_logits, domain)
        self.log_dict({"cls": cls_loss, "dom": dom_loss})
        return cls_loss + dom_loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05, momentum=0.9)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    xs = torch.randn(48, 10, generator=g)
    ys = (xs[:, 0] > 0).long() + (xs[:, 1] > 0).long()
    xt = torch.randn(48, 10, generator=g) * 1.5 + 0.5
    loader = DataLoader(TensorDataset(xs, ys, xt), batch_size=16, shuffle=True, generator=g)
    model = DANN()
    feat_before = model.features[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_checkpointing=False)
    trainer.fit(model, loader)
    facts = {"features_changed": not torch.equal(feat_before, model.features[0].weight.detach())}
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
