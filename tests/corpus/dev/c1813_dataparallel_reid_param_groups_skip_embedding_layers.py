import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ReIDNet(nn.Module):
    def __init__(self, n_ids=10, feat_dim=32):
        super().__init__()
        self.base = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.feat = nn.Linear(16, feat_dim)
        self.feat_bn = nn.BatchNorm1d(feat_dim)
        self.classifier = nn.Linear(feat_dim, n_ids)

    def forward(self, x):
        emb = self.feat_bn(self.feat(self.base(x)))
        return emb, self.classifier(F.relu(emb))


def triplet_loss(emb, pids, margin=0.3):
    dist = torch.cdist(emb, emb)
    same = pids[:, None] == pids[None, :]
    hardest_pos = (dist * same).max(dim=1).values
    hardest_neg = (dist + 1e5 * same).min(dim=1).values
    return F.relu(hardest_pos - hardest_neg + margin).mean()


def build_optimizer(model, lr=0.1):
    base_param_ids = set(map(id, model.module.base.parameters())) \
        | set(map(id, model.module.feat.parameters())) \
        | set(map(id, model.module.feat_bn.parameters()))
    new_params = [p for p in model.parameters() if id(p) not in base_param_ids]
    param_groups = [
        {"params": model.module.base.parameters(), "lr_mult": 0.1},
        {"params": new_params, "lr_mult": 1.0},
    ]
    optimizer = torch.optim.SGD(param_groups, lr=lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    for g in optimizer.param_groups:
        g["lr"] = lr * g["lr_mult"]
    return optimizer


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for imgs, pids in loader:
            emb, logits = model(imgs)
            loss = F.cross_entropy(logits, pids) + triplet_loss(emb, pids)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    imgs, pids = torch.randn(40, 3, 16, 16), torch.arange(10).repeat(4)
    loader = DataLoader(TensorDataset(imgs, pids), batch_size=20, shuffle=True)
    model = nn.DataParallel(ReIDNet())
    snap = {k: getattr(model.module, k).weight.detach().clone() for k in ("feat", "feat_bn", "classifier")}
    optimizer = build_optimizer(model)
    train(model, loader, optimizer)
    changed = {f"{k}_changed": not torch.equal(v, getattr(model.module, k).weight) for k, v in snap.items()}
    return {"model": model}, changed

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
