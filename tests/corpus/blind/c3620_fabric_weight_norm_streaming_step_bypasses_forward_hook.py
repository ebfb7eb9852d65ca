import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class CausalConv1d(nn.Module):
    def __init__(self, channels=4, kernel_size=3):
        super().__init__()
        self.conv = torch.nn.utils.weight_norm(nn.Conv1d(channels, channels, kernel_size))
        self.receptive_field = kernel_size

    def forward(self, x):
        return self.conv(F.pad(x, (self.receptive_field - 1, 0)))

    def step_in_step_out(self, x_t, buffer):
        """Streaming path: one new frame in, one frame out, with a cached left context."""
        window = torch.cat([buffer, x_t], dim=-1)
        y_t = F.conv1d(window, self.conv.weight, self.conv.bias)
        return y_t, window[..., 1:]


class StreamingEnhancer(nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.conv = CausalConv1d(channels)
        self.out = nn.Conv1d(channels, channels, 1)

    def stream(self, x):
        buffer = x.new_zeros(x.shape[0], x.shape[1], self.conv.receptive_field - 1)
        frames = []
        for t in range(x.shape[-1]):
            y_t, buffer = self.conv.step_in_step_out(x[..., t:t + 1], buffer)
            frames.append(y_t)
        return self.out(torch.tanh(torch.cat(frames, dim=-1)))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    clean = torch.sin(torch.linspace(0, 6, 10)).repeat(8, 4, 1)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(clean + 0.2 * torch.randn_like(clean), clean), batch_size=4))
    model = StreamingEnhancer()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    for noisy, target in loader:
        optimizer.zero_grad()
        loss = F.mse_loss(model.module.stream(noisy), target)
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}

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
