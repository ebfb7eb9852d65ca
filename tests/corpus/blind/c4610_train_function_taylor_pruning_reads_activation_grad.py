import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

PRUNE_CFG = {"prune_ratio": 0.25, "calib_batches": 2, "finetune_epochs": 2, "lr": 0.01}


class SmallCNN(nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
        self.block2 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = F.max_pool2d(self.block1(x), 2)
        x = self.block2(x)
        return self.fc(x.mean(dim=(2, 3)))


class ActivationRecorder:
    def __init__(self, model, names):
        self.activations = {}
        self.handles = [getattr(model, n).register_forward_hook(self._hook(n)) for n in names]

    def _hook(self, name):
        def fn(module, inputs, output):
            self.activations[name] = output
        return fn

    def remove(self):
        for h in self.handles:
            h.remove()


def taylor_importance(recorder, scores):
    for name, act in recorder.activations.items():
        contrib = (act * act.grad).abs().mean(dim=(0, 2, 3))
        scores[name] = scores.get(name, 0) + contrib.detach()
    return scores


def calibrate(model, loader, cfg):
    recorder = ActivationRecorder(model, ["block1", "block2"])
    scores = {}
    for i, (x, y) in enumerate(loader):
        if i >= cfg["calib_batches"]:
            break
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        scores = taylor_importance(recorder, scores)
    recorder.remove()
    return scores


def apply_channel_masks(model, scores, ratio):
    masks = {}
    for name, s in scores.items():
        k = int(ratio * len(s))
        keep = torch.ones_like(s)
        keep[s.argsort()[:k]] = 0.0
        conv = getattr(model, name)[0]
        with torch.no_grad():
            conv.weight.mul_(keep.view(-1, 1, 1, 1))
            conv.bias.mul_(keep)
        masks[name] = keep
    return masks


def finetune(model, loader, masks, cfg):
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9)
    for epoch in range(cfg["finetune_epochs"]):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                for name, keep in masks.items():
                    getattr(model, name)[0].weight.mul_(keep.view(-1, 1, 1, 1))


def toy_images(n=32):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 5, (n,), generator=g)
    x = torch.randn(n, 1, 12, 12, generator=g) + y.view(-1, 1, 1, 1) * 0.4
    return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = SmallCNN()
    loader = toy_images()
    scores = calibrate(model, loader, PRUNE_CFG)
    masks = apply_channel_masks(model, scores, PRUNE_CFG["prune_ratio"])
    fc0 = model.fc.weight.detach().clone()
    finetune(model, loader, masks, PRUNE_CFG)
    return {"model": model}, {
        "pruned_channels": int(sum((m == 0).sum().item() for m in masks.values())),
        "fc_changed": not torch.equal(fc0, model.fc.weight),
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
