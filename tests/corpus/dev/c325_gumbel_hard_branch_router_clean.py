import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RoutedBlock(nn.Module):
    """Each sample is sent to exactly one of several branches; the choice is learned."""

    def __init__(self, dim=16, n_branches=3, tau=1.0):
        super().__init__()
        self.router = nn.Linear(dim, n_branches)
        self.branches = nn.ModuleList([nn.Sequential(nn.Linear(dim, dim), nn.GELU()) for _ in range(n_branches)])
        self.tau = tau

    def forward(self, x):
        logits = self.router(x)
        if self.training:
            choice = F.gumbel_softmax(logits, tau=self.tau, hard=True)
        else:
            choice = F.one_hot(logits.argmax(dim=-1), logits.size(-1)).float()
        outs = torch.stack([b(x) for b in self.branches], dim=1)
        return x + (choice.unsqueeze(-1) * outs).sum(dim=1)


class RoutedNet(nn.Module):
    def __init__(self, in_dim=10, dim=16, n_classes=3):
        super().__init__()
        self.inp = nn.Linear(in_dim, dim)
        self.block = RoutedBlock(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        return self.head(self.block(self.inp(x)))


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    correct = sum((model(x).argmax(-1) == y).sum().item() for x, y in loader)
    model.train()
    return correct


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 10, generator=g)
    y = (x[:, :3]).argmax(dim=1)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model = RoutedNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    router_before = model.block.router.weight.detach().clone()
    train(model, loader, optimizer)
    evaluate(model, loader)
    train(model, loader, optimizer, epochs=1)
    facts = {"router_changed": not torch.equal(router_before, model.block.router.weight.detach())}
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
