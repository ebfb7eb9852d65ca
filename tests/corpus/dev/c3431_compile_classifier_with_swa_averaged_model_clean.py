import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn
from torch.utils.data import DataLoader, TensorDataset


class ConvNet(nn.Module):
    def __init__(self, n_cls=4):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8),
                                  nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(8, n_cls)

    def forward(self, x):
        return self.fc(self.body(x))


class SWACallback:
    """skorch-style callback: start averaging after swa_start epochs."""

    def __init__(self, net, optimizer, swa_start=1, swa_lr=0.02):
        self.swa_model = AveragedModel(net)
        self.swa_sched = SWALR(optimizer, swa_lr=swa_lr, anneal_epochs=1)
        self.swa_start = swa_start

    def on_epoch_end(self, net, epoch, base_sched):
        if epoch >= self.swa_start:
            self.swa_model.update_parameters(net)
            self.swa_sched.step()
        else:
            base_sched.step()

    def on_train_end(self, loader):
        update_bn(((x,) for x, _ in loader), self.swa_model)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(15)
    x = torch.randn(32, 1, 8, 8, generator=g)
    loader = DataLoader(TensorDataset(x, (x.mean((1, 2, 3)) * 4).long().clamp(0, 3)), batch_size=8, shuffle=True)
    net = ConvNet()
    model = torch.compile(net, backend="eager")
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    base_sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    swa = SWACallback(net, optimizer)
    fc0 = net.fc.weight.detach().clone()
    for epoch in range(3):
        net.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
        swa.on_epoch_end(net, epoch, base_sched)
    swa.on_train_end(loader)
    averaged = swa.swa_model.module
    return {"net": net}, {"net_changed": not torch.equal(fc0, net.fc.weight),
                          "swa_differs_from_last": not torch.equal(averaged.fc.weight, net.fc.weight),
                          "swa_count": int(swa.swa_model.n_averaged)}

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
