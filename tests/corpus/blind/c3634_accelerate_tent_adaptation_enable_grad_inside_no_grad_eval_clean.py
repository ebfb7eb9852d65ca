import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SmallCNN(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, 1, 1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, n_classes)

    def forward(self, x):
        return self.fc(F.relu(self.bn(self.conv(x))).mean((2, 3)))


def configure_tent(model):
    model.train()
    model.requires_grad_(False)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.requires_grad_(True)
            m.track_running_stats = False
            m.running_mean, m.running_var = None, None
    return [p for p in model.parameters() if p.requires_grad]


def evaluate_with_tent(model, loader, lr=1e-2):
    params = configure_tent(model)
    optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9)
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            with torch.enable_grad():
                logits = model(x)
                entropy = -(logits.softmax(1) * logits.log_softmax(1)).sum(1).mean()
                entropy.backward()
                optimizer.step()
                optimizer.zero_grad()
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(loader.dataset)


def main():
    set_seed(0)
    accelerator = Accelerator()
    y = torch.randint(0, 3, (48,))
    x = torch.randn(48, 3, 6, 6) + y.view(-1, 1, 1, 1).float()
    train_loader = DataLoader(TensorDataset(x[:32], y[:32]), batch_size=8, shuffle=True)
    shifted = DataLoader(TensorDataset(x[32:] * 1.5 + 0.3, y[32:]), batch_size=8)
    model = SmallCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model, optimizer, train_loader, shifted = accelerator.prepare(model, optimizer, train_loader, shifted)
    for xb, yb in train_loader:
        optimizer.zero_grad()
        accelerator.backward(F.cross_entropy(model(xb), yb))
        optimizer.step()
    bn0, conv0 = model.bn.weight.detach().clone(), model.conv.weight.detach().clone()
    acc = evaluate_with_tent(model, shifted)
    return {"model": model}, {
        "bn_affine_adapted": not torch.equal(bn0, model.bn.weight),
        "conv_untouched_by_adaptation": torch.equal(conv0, model.conv.weight),
        "accuracy_is_float": isinstance(acc, float),
    }

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
