import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class WideNet(nn.Module):
    def __init__(self, n_cls=5):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(16, n_cls)

    def forward(self, x):
        return self.fc(self.features(x))


def weak_aug(x):
    return torch.flip(x, dims=[3])


def strong_aug(x):
    return x + 0.3 * torch.randn_like(x)


@torch.no_grad()
def pseudo_label(model, x_weak, threshold):
    probs = F.softmax(model(x_weak), dim=1)
    conf, targets = probs.max(dim=1)
    return targets, (conf >= threshold).float()


def train(model, labeled, unlabeled, optimizer, scheduler, accelerator, threshold=0.25, lambda_u=1.0):
    model.train()
    stats = []
    for (xl, yl), (xu,) in zip(labeled, unlabeled):
        targets, mask = pseudo_label(model, weak_aug(xu), threshold)
        loss_x = F.cross_entropy(model(xl), yl)
        loss_u = (F.cross_entropy(model(strong_aug(xu)), targets, reduction="none") * mask).mean()
        loss = loss_x + lambda_u * loss_u
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        scheduler.step()
        stats.append({"loss_x": loss_x.item(), "mask_rate": mask.mean().item()})
    return stats


def main():
    set_seed(0)
    accelerator = Accelerator()
    xl, yl = torch.randn(16, 3, 8, 8), torch.randint(0, 5, (16,))
    xu = torch.randn(32, 3, 8, 8)
    labeled = DataLoader(TensorDataset(xl, yl), batch_size=4, shuffle=True)
    unlabeled = DataLoader(TensorDataset(xu), batch_size=8, shuffle=True)
    model = WideNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, nesterov=True)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4)
    model, optimizer, labeled, unlabeled, scheduler = accelerator.prepare(model, optimizer, labeled, unlabeled, scheduler)
    fc0 = model.fc.weight.detach().clone()
    stats = train(model, labeled, unlabeled, optimizer, scheduler, accelerator)
    return ({"model": model},
            {"fc_changed": not torch.equal(fc0, model.fc.weight), "steps": len(stats)})

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
