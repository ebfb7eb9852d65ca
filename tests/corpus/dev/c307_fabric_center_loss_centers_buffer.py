import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from lightning.fabric import Fabric


class CenterLoss(nn.Module):
    """Pulls each embedding towards a learned center of its class (Wen et al., 2016)."""

    def __init__(self, n_classes, feat_dim):
        super().__init__()
        self.register_buffer("centers", torch.randn(n_classes, feat_dim))

    def forward(self, feats, labels):
        return ((feats - self.centers[labels]) ** 2).sum(dim=1).mean() / 2


class EmbeddingNet(nn.Module):
    def __init__(self, in_dim=20, feat_dim=8, n_classes=5):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, 64), nn.ReLU(), nn.Linear(64, feat_dim))
        self.classifier = nn.Linear(feat_dim, n_classes)

    def forward(self, x):
        feats = self.body(x)
        return feats, self.classifier(feats)


def make_loader(n=80, in_dim=20, n_classes=5):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, n_classes, (n,), generator=g)
    x = torch.randn(n, in_dim, generator=g) + y[:, None].float()
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = EmbeddingNet()
    center_loss = CenterLoss(n_classes=5, feat_dim=8)
    params = list(model.parameters()) + list(center_loss.parameters())
    optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    centers_before = center_loss.centers.clone()
    for epoch in range(2):
        for x, y in loader:
            feats, logits = model(x)
            loss = F.cross_entropy(logits, y) + 0.1 * center_loss(feats, y)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    facts = {"centers_changed": not torch.equal(centers_before, center_loss.centers),
             "n_center_params": len(list(center_loss.parameters()))}
    return {"model": model.module, "center_loss.centers": center_loss.centers}, facts

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
