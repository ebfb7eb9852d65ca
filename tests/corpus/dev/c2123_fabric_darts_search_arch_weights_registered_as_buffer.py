import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class MixedOp(nn.Module):
    """DARTS-style candidate ops mixed with softmax(alpha)."""

    def __init__(self, ch):
        super().__init__()
        self.ops = nn.ModuleList([nn.Conv2d(ch, ch, 1), nn.Conv2d(ch, ch, 3, padding=1),
                                  nn.Conv2d(ch, ch, 5, padding=2)])

    def forward(self, x, weights):
        return sum(w * op(x) for w, op in zip(weights, self.ops))


class SearchCell(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.op = MixedOp(ch)
        self.register_buffer("alphas", torch.randn(3).mul_(1e-3).requires_grad_())

    def forward(self, x):
        return F.relu(self.op(x, F.softmax(self.alphas, dim=0)))


class SearchNet(nn.Module):
    def __init__(self, ch=8, n_cls=4):
        super().__init__()
        self.stem = nn.Conv2d(3, ch, 3, padding=1)
        self.cells = nn.Sequential(SearchCell(ch), SearchCell(ch))
        self.head = nn.Linear(ch, n_cls)

    def forward(self, x):
        return self.head(F.adaptive_avg_pool2d(self.cells(self.stem(x)), 1).flatten(1))

    def weight_parameters(self):
        return [p for n, p in self.named_parameters() if "alphas" not in n]

    def arch_parameters(self):
        return [p for n, p in self.named_parameters() if "alphas" in n]


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    net = SearchNet()
    w_opt = torch.optim.SGD(net.weight_parameters(), lr=0.05, momentum=0.9)
    a_opt = torch.optim.Adam(net.arch_parameters() or [torch.zeros(1, requires_grad=True)], lr=3e-3)
    model, w_opt, a_opt = fabric.setup(net, w_opt, a_opt)
    x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 4, (16,))
    xv, yv = torch.randn(16, 3, 8, 8), torch.randint(0, 4, (16,))
    alphas0 = model.cells[0].alphas.detach().clone()
    train = fabric.setup_dataloaders(DataLoader(TensorDataset(x, y), batch_size=8))
    val = fabric.setup_dataloaders(DataLoader(TensorDataset(xv, yv), batch_size=8))
    for (xt, yt), (xvb, yvb) in zip(train, val):
        a_opt.zero_grad()
        fabric.backward(F.cross_entropy(model(xvb), yvb))
        a_opt.step()
        w_opt.zero_grad()
        fabric.backward(F.cross_entropy(model(xt), yt))
        w_opt.step()
    return ({"model": net},
            {"alphas_changed": not torch.equal(alphas0, net.cells[0].alphas),
             "n_arch_params": len(net.arch_parameters())})

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
