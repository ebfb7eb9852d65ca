import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"levels": 7, "lr": 1e-2, "epochs": 3, "hidden": 32}


class BypassRound(torch.autograd.Function):
    """round() in the forward pass, identity in the backward pass (straight-through estimator)."""

    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class PosterizeNet(nn.Module):
    """Predicts a per-pixel colour that is posterized to a fixed number of levels (retro palette rendering)."""

    def __init__(self, hidden, levels):
        super().__init__()
        self.levels = levels
        self.net = nn.Sequential(nn.Conv2d(3, hidden, 3, padding=1), nn.ReLU(), nn.Conv2d(hidden, 3, 3, padding=1))
        self.gain = nn.Parameter(torch.ones(1))

    def forward(self, img):
        color = torch.sigmoid(self.net(img) * self.gain)
        return BypassRound.apply(color * self.levels) / self.levels


class PosterizeTrainer:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        self.history = []

    def train_step(self, img, target):
        loss = F.l1_loss(self.model(img), target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.history.append(loss.item())

    def fit(self, loader):
        for _ in range(self.cfg["epochs"]):
            for img, target in loader:
                self.train_step(img, target)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    imgs = torch.rand(16, 3, 12, 12, generator=g)
    targets = torch.round(imgs.pow(0.5) * CFG["levels"]) / CFG["levels"]
    model = PosterizeNet(CFG["hidden"], CFG["levels"])
    w0 = model.net[0].weight.detach().clone()
    trainer = PosterizeTrainer(model, CFG)
    trainer.fit(DataLoader(TensorDataset(imgs, targets), batch_size=4, shuffle=True, generator=g))
    return {"model": model}, {"net_changed": not torch.equal(w0, model.net[0].weight)}

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
