import io

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class UNetLite(nn.Module):
    def __init__(self, ch=8, n_classes=3):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.ReLU())
        self.down = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.dec = nn.Conv2d(2 * ch, n_classes, 1)

    def forward(self, x):
        e = self.enc(x)
        return self.dec(torch.cat([e, self.up(self.down(e))], dim=1))


def train_epoch(model, loader, optimizer):
    model.train()
    total = 0.0
    for images, masks in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), masks)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@torch.no_grad()
def mean_iou(model, loader, n_classes=3):
    model.eval()
    inter, union = torch.zeros(n_classes), torch.zeros(n_classes)
    for images, masks in loader:
        pred = model(images).argmax(1)
        for c in range(n_classes):
            inter[c] += ((pred == c) & (masks == c)).sum()
            union[c] += ((pred == c) | (masks == c)).sum()
    return (inter / union.clamp_min(1)).mean().item()


def save_checkpoint(model):
    buf = io.BytesIO()
    state = model.module.state_dict() if isinstance(model, nn.DataParallel) else model.state_dict()
    torch.save(state, buf)
    return sorted(state)[:2]


def main():
    torch.manual_seed(0)
    images = torch.randn(16, 1, 8, 8)
    masks = (images[:, 0] > 0).long() + (images[:, 0] > 1).long()
    loader = DataLoader(TensorDataset(images, masks), batch_size=4, shuffle=True)
    model = nn.DataParallel(UNetLite())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = model.module.enc[0].weight.detach().clone()
    for epoch in range(2):
        train_epoch(model, loader, optimizer)
        mean_iou(model, loader)
    facts = {"encoder_changed": not torch.equal(before, model.module.enc[0].weight.detach()),
             "checkpoint_keys": save_checkpoint(model)}
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
