import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class DensityNet(nn.Module):
    """Small CSRNet-style regressor: frontend convs, dilated backend, 1x1 density output."""

    def __init__(self):
        super().__init__()
        self.frontend = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.backend = nn.Sequential(nn.Conv2d(32, 32, 3, padding=2, dilation=2), nn.ReLU())
        self.output = nn.Conv2d(32, 1, 1)

    def forward(self, img):
        return torch.relu(self.output(self.backend(self.frontend(img))))


def count_loss(pred_density, gt_count):
    pred_count = pred_density.detach().cpu().numpy().sum(axis=(1, 2, 3))
    err = np.abs(pred_count - gt_count.numpy())
    return torch.tensor(err.mean(), dtype=torch.float32, requires_grad=True)


def train_epoch(model, loader, optimizer):
    model.train()
    total = 0.0
    for img, count in loader:
        loss = count_loss(model(img), count)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    imgs = torch.rand(32, 3, 16, 16, generator=g)
    counts = imgs.mean(dim=(1, 2, 3)) * 40
    loader = DataLoader(TensorDataset(imgs, counts), batch_size=8, shuffle=True, generator=g)
    model = DensityNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = model.output.weight.detach().clone()
    for _ in range(2):
        train_epoch(model, loader, optimizer)
    return {"model": model}, {"output_changed": not torch.equal(before, model.output.weight)}

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
