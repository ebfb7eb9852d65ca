import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ImageBranch(nn.Module):
    def __init__(self, out_dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                                 nn.Flatten(), nn.Linear(32, out_dim), nn.ReLU())

    def forward(self, img):
        return self.net(img)


class TabularBranch(nn.Module):
    def __init__(self, in_dim, out_dim=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, out_dim), nn.ReLU())

    def forward(self, tab):
        return self.net(tab)


class FusionNet(nn.Module):
    """Late fusion; the fusion width depends on which optional branches the config enables."""

    def __init__(self, tab_dim, hidden=24, n_classes=3):
        super().__init__()
        self.image = ImageBranch()
        self.tabular = TabularBranch(tab_dim)
        self.proj = None  # created on the first batch, once the concatenated width is known
        self.hidden = hidden
        self.classifier = nn.Linear(hidden, n_classes)

    def forward(self, img, tab):
        h = torch.cat([self.image(img), self.tabular(tab)], dim=-1)
        if self.proj is None:
            self.proj = nn.Linear(h.shape[-1], self.hidden)
        return self.classifier(F.relu(self.proj(h)))


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for img, tab, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(img, tab), y)
            loss.backward()
            optimizer.step()


def make_loader(n=64, tab_dim=5):
    g = torch.Generator().manual_seed(0)
    img = torch.randn(n, 3, 8, 8, generator=g)
    tab = torch.randn(n, tab_dim, generator=g)
    y = (tab[:, 0] > 0).long() + (img.mean((1, 2, 3)) > 0).long()
    return DataLoader(TensorDataset(img, tab, y), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = FusionNet(tab_dim=5)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loader = make_loader()
    img, tab, _ = next(iter(loader))
    model(img, tab)  # dry run to materialize the fusion layer
    proj_before = model.proj.weight.detach().clone()
    train(model, loader, optimizer)
    in_opt = any(p is model.proj.weight for g in optimizer.param_groups for p in g["params"])
    return {"model": model}, {"proj_changed": not torch.equal(proj_before, model.proj.weight),
                              "proj_in_optimizer": in_opt}

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
