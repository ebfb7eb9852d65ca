import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CharbonnierLoss(nn.Module):
    def __init__(self, eps=1e-3):
        super().__init__()
        self.eps = eps

    def forward(self, x, y):
        return torch.sqrt((x - y) ** 2 + self.eps ** 2).mean()


class EdgeLoss(nn.Module):
    def __init__(self):
        super().__init__()
        k = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
        self.register_buffer("kernel", k.view(1, 1, 3, 3))
        self.charb = CharbonnierLoss()

    def forward(self, x, y):
        return self.charb(F.conv2d(x, self.kernel, padding=1), F.conv2d(y, self.kernel, padding=1))


class Stage(nn.Module):
    """Small encoder-decoder with a skip connection, predicting a residual correction."""

    def __init__(self, ch=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.ReLU())
        self.down = nn.Sequential(nn.Conv2d(ch, 2 * ch, 3, stride=2, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(2 * ch, ch, 2, stride=2)
        self.out = nn.Conv2d(2 * ch, 1, 3, padding=1)

    def forward(self, x):
        e = self.enc(x)
        d = self.up(self.down(e))
        return x + self.out(torch.cat([e, d], dim=1))


class MultiStageRestorer(nn.Module):
    def __init__(self, n_stages=2):
        super().__init__()
        self.stages = nn.ModuleList([Stage() for _ in range(n_stages)])

    def forward(self, x):
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return outs[::-1]  # last stage first


def make_loader(n=24, size=16):
    g = torch.Generator().manual_seed(0)
    sharp = torch.rand(n, 1, size, size, generator=g)
    blur = F.avg_pool2d(sharp, 3, stride=1, padding=1) + 0.02 * torch.randn(n, 1, size, size, generator=g)
    return DataLoader(TensorDataset(blur, sharp), batch_size=8, shuffle=True, generator=g)


def train(model, loader, optimizer, epochs=2):
    criterion_char, criterion_edge = CharbonnierLoss(), EdgeLoss()
    for _ in range(epochs):
        for blur, target in loader:
            restored = model(blur)
            loss_char = torch.tensor([criterion_char(restored[j], target) for j in range(len(restored))],
                                     requires_grad=True).sum()
            loss_edge = torch.tensor([criterion_edge(restored[j], target) for j in range(len(restored))],
                                     requires_grad=True).sum()
            loss = loss_char + 0.05 * loss_edge
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = MultiStageRestorer()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    before = model.stages[0].enc[0].weight.detach().clone()
    train(model, make_loader(), optimizer)
    facts = {"stage0_changed": not torch.equal(before, model.stages[0].enc[0].weight.detach())}
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
