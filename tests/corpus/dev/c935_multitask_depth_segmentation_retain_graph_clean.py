import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SceneNet(nn.Module):
    def __init__(self, n_classes=4, width=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                                     nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.seg_head = nn.Conv2d(width, n_classes, 1)
        self.depth_head = nn.Conv2d(width, 1, 1)

    def forward(self, img):
        feats = self.encoder(img)
        return self.seg_head(feats), self.depth_head(feats).squeeze(1)


def grad_norm(module):
    return torch.sqrt(sum(p.grad.pow(2).sum() for p in module.parameters() if p.grad is not None))


def make_loader(n=32, size=12, n_classes=4):
    g = torch.Generator().manual_seed(0)
    img = torch.rand(n, 3, size, size, generator=g)
    seg = (img[:, 0] * n_classes).long().clamp(max=n_classes - 1)
    depth = img.mean(1)
    return DataLoader(TensorDataset(img, seg, depth), batch_size=8, shuffle=True, generator=g)


def train(model, loader, optimizer, depth_weight=0.5, epochs=2):
    model.train()
    history = []
    for _ in range(epochs):
        for img, seg, depth in loader:
            seg_logits, depth_pred = model(img)
            seg_loss = F.cross_entropy(seg_logits, seg)
            depth_loss = depth_weight * F.l1_loss(depth_pred, depth)
            optimizer.zero_grad()
            seg_loss.backward(retain_graph=True)
            seg_norm = grad_norm(model.encoder).item()
            depth_loss.backward()
            optimizer.step()
            history.append((seg_loss.item(), depth_loss.item(), seg_norm))
    return history


def main():
    torch.manual_seed(0)
    model = SceneNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, make_loader(), optimizer)
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
