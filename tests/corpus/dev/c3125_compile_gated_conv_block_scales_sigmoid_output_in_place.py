import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GatedConvBlock(nn.Module):
    def __init__(self, ch, dilation):
        super().__init__()
        self.conv_f = nn.Conv1d(ch, ch, 3, padding=dilation, dilation=dilation)
        self.conv_g = nn.Conv1d(ch, ch, 3, padding=dilation, dilation=dilation)
        self.norm = nn.GroupNorm(1, ch)

    def forward(self, x, mask):
        gate = torch.sigmoid(self.conv_g(x))
        gate.mul_(mask)
        return x + self.norm(torch.tanh(self.conv_f(x)) * gate)


class Enhancer(nn.Module):
    def __init__(self, ch=16, n_blocks=3):
        super().__init__()
        self.inp = nn.Conv1d(1, ch, 5, padding=2)
        self.blocks = nn.ModuleList([GatedConvBlock(ch, 2 ** i) for i in range(n_blocks)])
        self.out = nn.Conv1d(ch, 1, 1)

    def forward(self, noisy, mask):
        h = self.inp(noisy)
        for blk in self.blocks:
            h = blk(h, mask)
        return self.out(h) * mask


def make_loader():
    g = torch.Generator().manual_seed(0)
    clean = torch.randn(16, 1, 64, generator=g)
    noisy = clean + 0.3 * torch.randn(16, 1, 64, generator=g)
    lengths = torch.randint(40, 65, (16,), generator=g)
    mask = (torch.arange(64)[None, :] < lengths[:, None]).float()[:, None]
    return DataLoader(TensorDataset(noisy, clean, mask), batch_size=4, shuffle=True, generator=g)


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for noisy, clean, mask in loader:
            est = model(noisy, mask)
            loss = F.l1_loss(est * mask, clean * mask)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    net = Enhancer()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    model = torch.compile(net, backend="eager")
    train(model, make_loader(), optimizer)
    return {"model": net}

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
