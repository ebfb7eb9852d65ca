import io

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ECGNet(nn.Module):
    def __init__(self, channels=16, n_classes=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, channels, 7, padding=3), nn.BatchNorm1d(channels), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(channels, channels, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool1d(1),
        )
        self.classifier = nn.Linear(channels, n_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def build_model(cfg):
    return ECGNet(cfg["channels"], cfg["n_classes"])


def load_checkpoint(buffer, cfg):
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    model = build_model(cfg)
    model.load_state_dict(state["model"])
    return model


def make_loader(n=64, length=64, n_classes=4):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, n_classes, (n,), generator=g)
    t = torch.linspace(0, 6.28, length)
    x = torch.sin(t[None] * (y[:, None] + 1)) + 0.2 * torch.randn(n, length, generator=g)
    return DataLoader(TensorDataset(x.unsqueeze(1), y), batch_size=16, shuffle=True, generator=g)


def train(model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    cfg = {"channels": 16, "n_classes": 4}
    checkpoint = io.BytesIO()
    torch.save({"model": build_model(cfg).state_dict()}, checkpoint)

    model = build_model(cfg)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    model = load_checkpoint(checkpoint, cfg)
    before = model.features[0].weight.detach().clone()
    train(model, make_loader(), optimizer, scheduler)
    in_opt = {id(p) for g in optimizer.param_groups for p in g["params"]}
    facts = {
        "weights_changed": not torch.equal(before, model.features[0].weight),
        "optimizer_holds_model_params": id(model.features[0].weight) in in_opt,
    }
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
