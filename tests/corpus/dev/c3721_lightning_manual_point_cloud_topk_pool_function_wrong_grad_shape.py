import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class TopKMeanPool(torch.autograd.Function):
    """Mean of the k largest point features per channel (a robust max-pool for point clouds)."""

    @staticmethod
    def forward(ctx, feats, k):
        vals, idx = feats.topk(k, dim=1)
        ctx.save_for_backward(idx)
        ctx.n_points = feats.shape[1]
        return vals.mean(dim=1)

    @staticmethod
    def backward(ctx, grad_out):
        idx, = ctx.saved_tensors
        b, k, c = idx.shape
        grad = grad_out.unsqueeze(1).expand(b, k, c) / k
        return grad, None


class PointEncoder(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, width))

    def forward(self, pts):
        return self.mlp(pts)


class PointClassifier(pl.LightningModule):
    def __init__(self, k=4, n_classes=3):
        super().__init__()
        self.automatic_optimization = False
        self.encoder = PointEncoder()
        self.head = nn.Linear(16, n_classes)
        self.k = k

    def forward(self, pts):
        return self.head(TopKMeanPool.apply(self.encoder(pts), self.k))

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        pts, labels = batch
        loss = F.cross_entropy(self(pts), labels)
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()
        self.log("loss", loss)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def main():
    pl.seed_everything(0)
    pts = torch.randn(24, 32, 3)
    labels = torch.randint(0, 3, (24,))
    model = PointClassifier()
    pl.Trainer(max_epochs=1, logger=False).fit(model, DataLoader(TensorDataset(pts, labels), batch_size=8))
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
