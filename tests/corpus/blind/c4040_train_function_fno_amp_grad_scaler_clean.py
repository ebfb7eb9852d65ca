import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SpectralConv1d(nn.Module):
    def __init__(self, width, modes):
        super().__init__()
        self.modes = modes
        self.weights = nn.Parameter(torch.randn(width, width, modes, 2) / (width * width))

    def forward(self, x):
        x_ft = torch.fft.rfft(x.float())
        mixed = torch.einsum("bix,iox->box", x_ft[:, :, : self.modes], torch.view_as_complex(self.weights))
        out_ft = torch.cat([mixed, torch.zeros_like(x_ft[:, :, self.modes:])], dim=-1)
        return torch.fft.irfft(out_ft, n=x.size(-1))


class FNO1d(nn.Module):
    def __init__(self, width=8, modes=4, depth=2):
        super().__init__()
        self.lift = nn.Conv1d(2, width, 1)
        self.spectral = nn.ModuleList([SpectralConv1d(width, modes) for _ in range(depth)])
        self.skip = nn.ModuleList([nn.Conv1d(width, width, 1) for _ in range(depth)])
        self.proj = nn.Conv1d(width, 1, 1)

    def forward(self, a, grid):
        x = self.lift(torch.stack([a, grid], dim=1))
        for spec, skip in zip(self.spectral, self.skip):
            x = F.gelu(spec(x) + skip(x))
        return self.proj(x).squeeze(1)


def train_one_epoch(model, loader, optimizer, scaler):
    model.train()
    losses = []
    for a, grid, u in loader:
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            pred = model(a, grid)
        loss = F.mse_loss(pred.float(), u)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    grid = torch.linspace(0, 1, 16).expand(32, 16).contiguous()
    a = torch.rand(32, 16, generator=g)
    u = torch.cumsum(a, dim=1) / 16
    loader = DataLoader(TensorDataset(a, grid, u), batch_size=8, shuffle=True, generator=g)
    model = FNO1d()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scaler = torch.amp.GradScaler("cpu")
    w0 = model.spectral[0].weights.detach().clone()
    l0 = model.lift.weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, scaler)
    return {"model": model}, {
        "spectral_changed": not torch.equal(w0, model.spectral[0].weights),
        "lift_changed": not torch.equal(l0, model.lift.weight),
    }

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
