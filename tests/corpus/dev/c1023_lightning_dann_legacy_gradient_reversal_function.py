import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Function
from torch.utils.data import DataLoader, TensorDataset


class GradReverse(Function):
    def __init__(self, lambd):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return x.view_as(x)

    def backward(self, grad_output):
        return -self.lambd * grad_output


class DANN(pl.LightningModule):
    """Domain-adversarial training: label head on source data, domain head through gradient reversal."""

    def __init__(self, in_dim=16, feat_dim=24, num_classes=3, lambd=0.3):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(in_dim, feat_dim), nn.ReLU())
        self.label_head = nn.Linear(feat_dim, num_classes)
        self.domain_head = nn.Sequential(nn.Linear(feat_dim, 16), nn.ReLU(), nn.Linear(16, 1))
        self.lambd = lambd

    def training_step(self, batch, batch_idx):
        x_src, y_src, x_tgt = batch
        f_src, f_tgt = self.features(x_src), self.features(x_tgt)
        cls_loss = F.cross_entropy(self.label_head(f_src), y_src)
        feats = torch.cat([f_src, f_tgt])
        dom_logits = self.domain_head(GradReverse(self.lambd)(feats)).squeeze(-1)
        dom_labels = torch.cat([torch.zeros(len(f_src)), torch.ones(len(f_tgt))])
        loss = cls_loss + F.binary_cross_entropy_with_logits(dom_logits, dom_labels)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01, momentum=0.9)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x_src = torch.randn(32, 16, generator=g)
    y_src = torch.randint(0, 3, (32,), generator=g)
    x_tgt = torch.randn(32, 16, generator=g) + 0.5
    loader = DataLoader(TensorDataset(x_src, y_src, x_tgt), batch_size=8, shuffle=True, generator=g)
    model = DANN()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
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
