import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GlobalFrequencyGate(nn.Module):
    """Splits a feature map into its global mean (low frequency) and the residual (high frequency)."""

    def __init__(self, dim):
        super().__init__()
        self.fscale_d = nn.Parameter(torch.zeros(dim), requires_grad=True)
        self.fscale_h = nn.Parameter(torch.ones(dim), requires_grad=True)
        self.gap = nn.AdaptiveAvgPool2d((1, 1))

    def forward(self, x):
        x_d = self.gap(x)
        x_h = (x - x_d) * (self.fscale_h[None, :, None, None] + 1.0)
        x_d = x_d * self.fscale_d[None, :, None, None]
        return x_d + x_h


class DehazeBlock(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.conv_in = nn.Conv2d(3, dim, 3, 1, 1)
        self.gate = GlobalFrequencyGate(dim)
        self.conv_out = nn.Conv2d(dim, 3, 3, 1, 1)

    def forward(self, x):
        return x + self.conv_out(self.gate(F.gelu(self.conv_in(x))))


def train(model, loader, optimizer, scheduler):
    for hazy, clear in loader:
        loss = F.l1_loss(model(hazy), clear)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scheduler.step()


def main():
    torch.manual_seed(0)
    clear = torch.rand(16, 3, 8, 8)
    hazy = 0.6 * clear + 0.4
    loader = DataLoader(TensorDataset(hazy, clear), batch_size=4, shuffle=True)
    model = DehazeBlock()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2)
    h0 = model.gate.fscale_h.detach().clone()
    train(compiled, loader, optimizer, scheduler)
    return {"model": model}, {"fscale_h_changed": not torch.equal(h0, model.gate.fscale_h)}

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
