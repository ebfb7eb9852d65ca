import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DensityNet(nn.Module):
    """Predicts a non-negative density map whose integral is the number of people in the crop."""

    def __init__(self, width=8):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.density = nn.Conv2d(width, 1, 1)

    def forward(self, x):
        return F.softplus(self.density(self.features(x)))


def predicted_count(density):
    """People are integers: report the rounded integral of the density map."""
    return torch.round(density.sum(dim=(1, 2, 3)))


def count_loss(density, gt_count):
    return F.l1_loss(predicted_count(density), gt_count)


def train(model, loader, optimizer, epochs=2):
    model.train()
    history = []
    for _ in range(epochs):
        for crops, gt_count in loader:
            optimizer.zero_grad()
            loss = count_loss(model(crops), gt_count)
            loss.backward()
            optimizer.step()
            history.append(loss.item())
    return history


def make_loader(n=40, size=12):
    g = torch.Generator().manual_seed(43)
    counts = torch.randint(0, 8, (n,), generator=g)
    crops = 0.1 * torch.randn(n, 1, size, size, generator=g)
    for i, c in enumerate(counts.tolist()):
        pos = torch.randint(0, size, (c, 2), generator=g)
        crops[i, 0, pos[:, 0], pos[:, 1]] += 1.0
    return DataLoader(TensorDataset(crops, counts.float()), batch_size=8, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = DensityNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    w0 = model.features[0].weight.detach().clone()
    history = train(model, make_loader(), optimizer)
    return {"model": model}, {"features_changed": not torch.equal(w0, model.features[0].weight),
                              "loss_history_length": len(history)}

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
