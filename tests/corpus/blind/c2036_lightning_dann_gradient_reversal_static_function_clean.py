import math

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
        return grad_output.neg() * ctx.lambd, None


class GRL(nn.Module):
    def __init__(self):
        super().__init__()
        self.lambd = 0.0

    def forward(self, x):
        return GradientReversal.apply(x, self.lambd)


class DomainAdversarialNet(pl.LightningModule):
    def __init__(self, d_in=20, n_classes=4, total_steps=8):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU())
        self.classifier = nn.Linear(16, n_classes)
        self.grl = GRL()
        self.domain_clf = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
        self.total_steps = total_steps

    def grl_schedule(self):
        p = min(1.0, self.global_step / self.total_steps)
        return 2.0 / (1.0 + math.exp(-10 * p)) - 1.0

    def training_step(self, batch, batch_idx):
        xs, ys, xt = batch
        self.grl.lambd = self.grl_schedule()
        fs, ft = self.features(xs), self.features(xt)
        cls_loss = F.cross_entropy(self.classifier(fs), ys)
        dom_logits = self.domain_clf(self.grl(torch.cat([fs, ft]))).squeeze(-1)
        dom_labels = torch.cat([torch.zeros(len(xs)), torch.ones(len(xt))])
        loss = cls_loss + F.binary_cross_entropy_with_logits(dom_logits, dom_labels)
        self.log_dict({"cls": cls_loss.detach(), "lambda": self.grl.lambd})
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01, momentum=0.9)


def main():
    pl.seed_everything(0)
    xs, ys = torch.randn(32, 20), torch.randint(0, 4, (32,))
    xt = torch.randn(32, 20) + 0.5
    loader = DataLoader(TensorDataset(xs, ys, xt), batch_size=8, shuffle=True)
    model = DomainAdversarialNet()
    f0 = model.features[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.zero_grad(set_to_none=True)
    model.grl.lambd = 1.0
    xb, yb, tb = next(iter(loader))
    feats = model.features(torch.cat([xb, tb]))
    feats.retain_grad()
    model.domain_clf(model.grl(feats)).sum().backward()
    reversed_ok = bool((feats.grad.sum() != 0))
    return ({"model": model},
            {"features_changed": not torch.equal(f0, model.features[0].weight), "domain_grad_reaches_features": reversed_ok})

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
