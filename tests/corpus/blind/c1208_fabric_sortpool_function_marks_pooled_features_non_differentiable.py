import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class SortPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, feats, k):
        idx = feats[..., -1].argsort(dim=1, descending=True)[:, :k]
        pooled = feats.gather(1, idx.unsqueeze(-1).expand(-1, -1, feats.size(-1)))
        ctx.save_for_backward(idx)
        ctx.num_points = feats.size(1)
        ctx.mark_non_differentiable(pooled, idx)
        return pooled, idx

    @staticmethod
    def backward(ctx, grad_pooled, grad_idx):
        (idx,) = ctx.saved_tensors
        grad = grad_pooled.new_zeros(grad_pooled.size(0), ctx.num_points, grad_pooled.size(-1))
        grad.scatter_(1, idx.unsqueeze(-1).expand_as(grad_pooled), grad_pooled)
        return grad, None


class PointClassifier(nn.Module):
    def __init__(self, in_dim=3, feat_dim=16, k=8, n_classes=4):
        super().__init__()
        self.k = k
        self.point_encoder = nn.Sequential(nn.Linear(in_dim, feat_dim), nn.ReLU(), nn.Linear(feat_dim, feat_dim))
        self.classifier = nn.Linear(k * feat_dim, n_classes)

    def forward(self, points):
        feats = self.point_encoder(points)
        pooled, _ = SortPool.apply(feats, self.k)
        return self.classifier(pooled.flatten(1))


def train_epoch(fabric, model, optimizer, batches):
    for points, labels in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(points), labels)
        fabric.backward(loss)
        optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = PointClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randn(8, 32, 3, generator=g), torch.randint(0, 4, (8,), generator=g)) for _ in range(4)]
    enc0 = model.module.point_encoder[0].weight.detach().clone()
    head0 = model.module.classifier.weight.detach().clone()
    for _ in range(2):
        train_epoch(fabric, model, optimizer, batches)
    facts = {
        "encoder_changed": not torch.equal(enc0, model.module.point_encoder[0].weight),
        "classifier_changed": not torch.equal(head0, model.module.classifier.weight),
    }
    return {"model": model.module}, facts

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
