import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class SmallResNet(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.stem = ConvBlock(3, 8)
        self.layer1 = nn.Sequential(ConvBlock(8, 8), ConvBlock(8, 8))
        self.head = nn.Linear(8, n_classes)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.layer1(x)
        return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))


class MetricTracker:
    def __init__(self):
        self.loss_sum, self.correct, self.count = 0.0, 0, 0

    def update(self, loss, logits, labels):
        self.loss_sum += loss.item() * labels.size(0)
        self.correct += (logits.argmax(1) == labels).sum().item()
        self.count += labels.size(0)

    def summary(self):
        return {"loss": self.loss_sum / self.count, "acc": self.correct / self.count}


def train_one_epoch(model, loader, optimizer, scaler, scheduler):
    model.train()
    tracker = MetricTracker()
    for images, labels in loader:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            logits = model(images)
            loss = F.cross_entropy(logits, labels)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.0)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        tracker.update(loss.detach().float(), logits.detach(), labels)
    return tracker.summary()


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 3, 8, 8), torch.randint(0, 5, (16,))), batch_size=8, shuffle=True)
    model = SmallResNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=4)
    scaler = torch.amp.GradScaler("cpu")
    w0 = model.stem.conv.weight.detach().clone()
    history = [train_one_epoch(model, loader, optimizer, scaler, scheduler) for _ in range(2)]
    facts = {"weights_changed": not torch.equal(w0, model.stem.conv.weight.detach()),
             "metrics_are_floats": all(isinstance(v, float) for h in history for v in h.values())}
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
