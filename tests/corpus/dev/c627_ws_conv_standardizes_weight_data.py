import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class WSConv2d(nn.Conv2d):
    """Conv2d with Weight Standardization (for micro-batch training with GroupNorm)."""

    def standardized_weight(self, eps=1e-5):
        w = self.weight.data
        mean = w.mean(dim=(1, 2, 3), keepdim=True)
        std = w.std(dim=(1, 2, 3), keepdim=True)
        return (w - mean) / (std + eps)

    def forward(self, x):
        return F.conv2d(x, self.standardized_weight(), self.bias, self.stride, self.padding, self.dilation, self.groups)


def ws_block(in_ch, out_ch, groups=4):
    return nn.Sequential(WSConv2d(in_ch, out_ch, 3, padding=1), nn.GroupNorm(groups, out_ch), nn.ReLU())


class SegNetGN(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.enc1 = ws_block(3, 8)
        self.enc2 = ws_block(8, 8)
        self.classifier = nn.Conv2d(8, n_classes, 1)

    def forward(self, x):
        return self.classifier(self.enc2(self.enc1(x)))


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for img, mask in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(img), mask)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    img = torch.randn(8, 3, 12, 12, generator=g)
    mask = (img[:, 0] > 0).long() + (img[:, 1] > 1).long()
    model = SegNetGN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    before = model.enc1[0].weight.detach().clone()
    train(model, DataLoader(TensorDataset(img, mask), batch_size=2), optimizer)
    return {"model": model}, {"conv_weight_changed": not torch.equal(before, model.enc1[0].weight)}

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
