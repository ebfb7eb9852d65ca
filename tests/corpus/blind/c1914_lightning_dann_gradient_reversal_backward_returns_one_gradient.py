import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.lambd


class FeatureExtractor(nn.Module):
    def __init__(self, in_dim=20, feat=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, feat), nn.BatchNorm1d(feat), nn.ReLU(), nn.Linear(feat, feat), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class DANN(pl.LightningModule):
    """Domain-adversarial training: sentiment classifier on source reviews, domain critic through a GRL."""

    def __init__(self, n_classes=2, max_epochs=2, lr=1e-3):
        super().__init__()
        self.features = FeatureExtractor()
        self.label_head = nn.Linear(32, n_classes)
        self.domain_head = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1))
        self.max_epochs, self.lr = max_epochs, lr

    def grl_lambda(self):
        p = (self.current_epoch + 1) / self.max_epochs
        return 2.0 / (1.0 + torch.exp(torch.tensor(-10.0 * p)).item()) - 1.0

    def training_step(self, batch, batch_idx):
        x_src, y_src, x_tgt = batch
        f_src, f_tgt = self.features(x_src), self.features(x_tgt)
        cls_loss = F.cross_entropy(self.label_head(f_src), y_src)
        feats = torch.cat([f_src, f_tgt])
        domains = torch.cat([torch.zeros(len(x_src), 1), torch.ones(len(x_tgt), 1)])
        dom_logits = self.domain_head(GradientReversal.apply(feats, self.grl_lambda()))
        dom_loss = F.binary_cross_entropy_with_logits(dom_logits, domains)
        self.log_dict({"cls": cls_loss, "dom": dom_loss})
        return cls_loss + dom_loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x_src = torch.randn(32, 20, generator=g)
    y_src = (x_src[:, 0] > 0).long()
    x_tgt = torch.randn(32, 20, generator=g) + 0.5
    loader = DataLoader(TensorDataset(x_src, y_src, x_tgt), batch_size=8, shuffle=True, generator=g)
    model = DANN()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
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
