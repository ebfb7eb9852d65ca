import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class GradeNet(nn.Module):
    """Predicts one of five severity grades from tabular lab values."""

    def __init__(self, n_in=14, hidden=32, n_grades=5):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Dropout(0.1),
                                      nn.Linear(hidden, hidden), nn.ReLU())
        self.grade_head = nn.Linear(hidden, n_grades)

    def forward(self, x):
        return self.grade_head(self.features(x))


def predicted_grade(logits):
    return logits.argmax(dim=-1).float()


def accuracy(logits, target):
    return (logits.argmax(dim=-1) == target).float().mean()


class OrdinalDistanceLoss(nn.Module):
    """Penalise a prediction by how many grades it is off, so that 'off by one' costs less than 'off by four'."""

    def forward(self, logits, target):
        return F.smooth_l1_loss(predicted_grade(logits), target.float())


def make_loader(n=120):
    g = torch.Generator().manual_seed(8)
    x = torch.randn(n, 14, generator=g)
    grade = torch.bucketize(x[:, :3].sum(dim=1), torch.tensor([-1.5, -0.5, 0.5, 1.5]))
    return DataLoader(TensorDataset(x, grade), batch_size=20, shuffle=True, generator=g)


def train(fabric, model, optimizer, loader, criterion, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, grade in loader:
            optimizer.zero_grad()
            logits = model(x)
            loss = criterion(logits, grade)
            fabric.backward(loss)
            optimizer.step()
            fabric.log("train/acc", accuracy(logits, grade).item())


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = GradeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    train(fabric, model, optimizer, loader, OrdinalDistanceLoss())
    return {"model": model.module}

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
