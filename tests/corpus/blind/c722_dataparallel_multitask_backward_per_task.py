import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SceneNet(nn.Module):
    def __init__(self, ch=8, n_classes=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.ReLU(),
                                     nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.seg_head = nn.Conv2d(ch, n_classes, 1)
        self.depth_head = nn.Conv2d(ch, 1, 1)

    def forward(self, x):
        f = self.encoder(x)
        return {"seg": self.seg_head(f), "depth": self.depth_head(f).squeeze(1)}


CRITERIA = {
    "seg": lambda out, tgt: F.cross_entropy(out, tgt),
    "depth": lambda out, tgt: F.l1_loss(out, tgt),
}
WEIGHTS = {"seg": 1.0, "depth": 0.5}


def train_epoch(model, loader, optimizer):
    model.train()
    logs = {k: 0.0 for k in CRITERIA}
    for img, seg, depth in loader:
        targets = {"seg": seg, "depth": depth}
        optimizer.zero_grad()
        outputs = model(img)
        for name, criterion in CRITERIA.items():
            loss = WEIGHTS[name] * criterion(outputs[name], targets[name])
            loss.backward()
            logs[name] += loss.item()
        optimizer.step()
    return logs


def make_loader(n=32, size=12, n_classes=4):
    g = torch.Generator().manual_seed(0)
    img = torch.rand(n, 3, size, size, generator=g)
    seg = (img[:, 0] * n_classes).long().clamp(max=n_classes - 1)
    depth = img.mean(1)
    return DataLoader(TensorDataset(img, seg, depth), batch_size=8, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(SceneNet())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_epoch(model, make_loader(), optimizer)
    return {"model": model.module}

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
