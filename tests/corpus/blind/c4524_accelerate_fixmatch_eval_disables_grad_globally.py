import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

ARGS = {"num_classes": 4, "threshold": 0.7, "lambda_u": 1.0, "mu": 2, "lr": 0.03, "wdecay": 5e-4,
        "epochs": 2, "batch": 8, "eval_before_training": True}


class CNN13Lite(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.LeakyReLU(0.1), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.LeakyReLU(0.1),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        return self.fc(self.features(x))


def weak_aug(x):
    return torch.where(torch.rand(x.shape[0], 1, 1, 1) < 0.5, x.flip(-1), x)


def strong_aug(x):
    x = weak_aug(x)
    cut = torch.ones_like(x)
    cut[..., 4:10, 4:10] = 0
    return x * cut * (1 + 0.4 * torch.randn(x.shape[0], 3, 1, 1))


def evaluate(model, loader):
    torch.set_grad_enabled(False)
    model.eval()
    correct, total = 0, 0
    for x, y in loader:
        correct += (model(x).argmax(-1) == y).sum().item()
        total += len(y)
    model.train()
    return correct / max(total, 1)


def train_one_epoch(model, labeled, unlabeled, optimizer, accelerator, args):
    model.train()
    for (x, y), (u,) in zip(labeled, unlabeled):
        logits_x = model(weak_aug(x))
        with torch.no_grad():
            probs = torch.softmax(model(weak_aug(u)), dim=-1)
        conf, pseudo = probs.max(-1)
        mask = (conf >= args["threshold"]).float()
        lu = (F.cross_entropy(model(strong_aug(u)), pseudo, reduction="none") * mask).mean()
        loss = F.cross_entropy(logits_x, y) + args["lambda_u"] * lu
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()


def make_loaders(args):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(16) % args["num_classes"]
    x = torch.randn(16, 3, 16, 16, generator=g) + y.view(-1, 1, 1, 1).float()
    u = torch.randn(16 * args["mu"], 3, 16, 16, generator=g)
    labeled = DataLoader(TensorDataset(x, y), batch_size=args["batch"], shuffle=True, generator=g)
    unlabeled = DataLoader(TensorDataset(u), batch_size=args["batch"] * args["mu"], shuffle=True, generator=g)
    test = DataLoader(TensorDataset(x, y), batch_size=16)
    return labeled, unlabeled, test


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = CNN13Lite(ARGS["num_classes"])
    optimizer = torch.optim.SGD(model.parameters(), lr=ARGS["lr"], momentum=0.9, nesterov=True, weight_decay=ARGS["wdecay"])
    labeled, unlabeled, test = make_loaders(ARGS)
    model, optimizer, labeled, unlabeled, test = accelerator.prepare(model, optimizer, labeled, unlabeled, test)
    history = []
    if ARGS["eval_before_training"]:
        history.append(evaluate(model, test))
    for epoch in range(ARGS["epochs"]):
        train_one_epoch(model, labeled, unlabeled, optimizer, accelerator, ARGS)
        history.append(evaluate(model, test))
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
