import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def round_ste(x):
    return (x.round() - x).detach() + x


class FakeQuantize(nn.Module):
    """LSQ-style symmetric 8-bit fake quantizer with a learnable step size."""

    def __init__(self, levels=127):
        super().__init__()
        self.levels = levels
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        q = torch.clamp(round_ste(x / self.scale), -self.levels, self.levels)
        return q * self.scale


class QuantMLP(nn.Module):
    def __init__(self, n_in=16, hidden=32, n_out=3):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(n_in, hidden), nn.Linear(hidden, n_out)
        self.act_quant = FakeQuantize()

    def forward(self, x):
        return self.fc2(self.act_quant(F.relu(self.fc1(x))))


@torch.no_grad()
def init_quantizer_ranges(model, loader, num_batches=2):
    """Calibrate each quantizer's step size from the activation range seen on a few batches."""
    observed = []
    hook = model.act_quant.register_forward_pre_hook(lambda m, inp: observed.append(inp[0].abs().max()))
    for i, (x, _) in enumerate(loader):
        if i == num_batches:
            break
        model(x)
    hook.remove()
    model.act_quant.scale = nn.Parameter(torch.stack(observed).max().reshape(1) / model.act_quant.levels)


def make_loader(n=96):
    g = torch.Generator().manual_seed(13)
    x = torch.randn(n, 16, generator=g)
    y = (x[:, :3].argmax(dim=1))
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    loader = make_loader()
    model = QuantMLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    init_quantizer_ranges(model, loader)
    scale0 = model.act_quant.scale.detach().clone()
    compiled = torch.compile(model, backend="eager")
    for epoch in range(2):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(compiled(x), y)
            loss.backward()
            optimizer.step()
    scale = model.act_quant.scale
    return ({"model": model},
            {"scale_changed": not torch.equal(scale0, scale.detach()),
             "scale_in_optimizer": any(p is scale for grp in optimizer.param_groups for p in grp["params"])})

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
