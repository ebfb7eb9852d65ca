import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class FrozenDenoiser(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.down = nn.Conv2d(3, ch, 3, padding=1)
        self.mid = nn.Conv2d(ch, ch, 3, padding=1)
        self.out = nn.Conv2d(ch, 3, 3, padding=1)

    def forward(self, x, residuals):
        h = F.silu(self.down(x)) + residuals[0]
        h = F.silu(self.mid(h)) + residuals[1]
        return self.out(h)


class ControlAdapter(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.hint = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.SiLU())
        self.zero_convs = nn.ModuleList(nn.Conv2d(ch, ch, 1) for _ in range(2))
        self.gate_logits = nn.Parameter(torch.zeros(2))

    def forward(self, hint, conditioning_scale=1.0):
        h = self.hint(hint)
        gate = torch.sigmoid(self.gate_logits)
        gate.mul_(conditioning_scale)
        return [gate[i] * conv(h) for i, conv in enumerate(self.zero_convs)]


def paired_data(n=8):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(n, 3, 8, 8, generator=g), torch.randn(n, 1, 8, 8, generator=g)),
                      batch_size=4, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    denoiser, adapter = FrozenDenoiser(), ControlAdapter()
    denoiser.requires_grad_(False)
    optimizer = torch.optim.AdamW(adapter.parameters(), lr=1e-4)
    adapter, optimizer, loader = accelerator.prepare(adapter, optimizer, paired_data())
    config = {"conditioning_scale": 0.8, "noise_std": 0.5}
    for images, hints in loader:
        noise = torch.randn_like(images) * config["noise_std"]
        residuals = adapter(hints, config["conditioning_scale"])
        loss = F.mse_loss(denoiser(images + noise, residuals), noise)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return {"adapter": adapter}

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
