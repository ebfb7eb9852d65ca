import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FaceAttributeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.age_head = nn.Linear(16, 1)
        self.gender_head = nn.Linear(16, 2)

    def forward(self, img):
        h = self.backbone(img)
        return self.age_head(h).squeeze(-1), self.gender_head(h)


class UncertaintyWeighting(nn.Module):
    """Kendall et al. 2018: learn one log-variance per task to balance the losses."""

    def __init__(self, num_tasks):
        super().__init__()
        self.log_vars = nn.Parameter(torch.zeros(num_tasks))

    def forward(self, task_losses):
        losses = torch.tensor(task_losses)
        return (torch.exp(-self.log_vars) * losses + self.log_vars).sum()


def train(model, weighting, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for img, age, gender in loader:
            pred_age, gender_logits = model(img)
            losses = [F.smooth_l1_loss(pred_age, age), F.cross_entropy(gender_logits, gender)]
            loss = weighting(losses)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    img = torch.randn(32, 3, 12, 12, generator=g)
    age = img.mean(dim=(1, 2, 3)) * 10 + 30
    gender = torch.randint(0, 2, (32,), generator=g)
    loader = DataLoader(TensorDataset(img, age, gender), batch_size=8, shuffle=True, generator=g)
    model, weighting = FaceAttributeNet(), UncertaintyWeighting(2)
    optimizer = torch.optim.Adam(list(model.parameters()) + list(weighting.parameters()), lr=1e-3)
    train(model, weighting, loader, optimizer)
    return {"model": model, "weighting": weighting}

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
