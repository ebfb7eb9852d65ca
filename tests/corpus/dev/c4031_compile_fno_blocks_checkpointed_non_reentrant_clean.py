import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from torch.utils.data import DataLoader, TensorDataset


class SpectralConv1d(nn.Module):
    def __init__(self, width, modes):
        super().__init__()
        self.modes = modes
        self.weights = nn.Parameter(torch.randn(width, width, modes, dtype=torch.cfloat) / (width * width))

    def forward(self, x):
        x_ft = torch.fft.rfft(x)
        mixed = torch.einsum("bix,iox->box", x_ft[:, :, : self.modes], self.weights)
        out_ft = torch.cat([mixed, torch.zeros_like(x_ft[:, :, self.modes:])], dim=-1)
        return torch.fft.irfft(out_ft, n=x.size(-1))


class FNOBlock(nn.Module):
    def __init__(self, width, modes):
        super().__init__()
        self.spectral = SpectralConv1d(width, modes)
        self.skip = nn.Conv1d(width, width, 1)

    def forward(self, x):
        return F.gelu(self.spectral(x) + self.skip(x))


class FNO1d(nn.Module):
    def __init__(self, width=8, modes=4, depth=3, use_checkpoint=True):
        super().__init__()
        self.lift = nn.Conv1d(2, width, 1)
        self.blocks = nn.ModuleList([FNOBlock(width, modes) for _ in range(depth)])
        self.proj = nn.Conv1d(width, 1, 1)
        self.use_checkpoint = use_checkpoint

    def forward(self, a, grid):
        x = self.lift(torch.stack([a, grid], dim=1))
        for blk in self.blocks:
            if self.use_checkpoint and self.training:
                x = checkpoint(blk, x, use_reentrant=False)
            else:
                x = blk(x)
        return self.proj(x).squeeze(1)


def darcy_like(n=32, s=16):
    g = torch.Generator().manual_seed(0)
    grid = torch.linspace(0, 1, s).expand(n, s).contiguous()
    a = torch.rand(n, s, generator=g)
    u = torch.cumsum(a, dim=1) / s
    return DataLoader(TensorDataset(a, grid, u), batch_size=8, shuffle=True, generator=g)


def train_one_epoch(model, loader, optimizer):
    model.train()
    for a, grid, u in loader:
        loss = F.mse_loss(model(a, grid), u)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    model = FNO1d()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    spec0 = model.blocks[0].spectral.weights.detach().clone()
    train_one_epoch(compiled, darcy_like(), optimizer)
    return {"model": model}, {"spectral_changed": not torch.equal(spec0, model.blocks[0].spectral.weights)}

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
