import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class EchoStateNetwork(nn.Module):
    def __init__(self, n_in=2, n_res=32, n_out=1, spectral_radius=0.9, leak=0.3):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        w = torch.randn(n_res, n_res, generator=g)
        w = w * (spectral_radius / torch.linalg.eigvals(w).abs().max())
        self.register_buffer("w_res", w)
        self.register_buffer("w_in", torch.rand(n_res, n_in, generator=g) * 2 - 1)
        self.input_scale = nn.Parameter(torch.ones(1))
        self.w_out = (torch.randn(n_res, n_out, generator=g) * 0.1).requires_grad_()
        self.leak = leak

    def forward(self, u):
        state = torch.zeros(u.size(0), self.w_res.size(0))
        states = []
        for x in u.unbind(1):
            pre = (self.input_scale * x) @ self.w_in.T + state @ self.w_res.T
            state = (1 - self.leak) * state + self.leak * torch.tanh(pre)
            states.append(state)
        return torch.stack(states, 1) @ self.w_out


def sine_windows(n=24, steps=10):
    t = torch.linspace(0, 12, n + steps + 1)
    series = torch.stack([torch.sin(t), torch.cos(0.5 * t)], -1)
    x = torch.stack([series[i:i + steps] for i in range(n)])
    y = torch.stack([series[i + 1:i + steps + 1, :1] for i in range(n)])
    return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=False)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = EchoStateNetwork()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(sine_windows())
    core = model.module
    w0, s0 = core.w_out.detach().clone(), core.input_scale.detach().clone()
    for u, target in loader:
        optimizer.zero_grad()
        loss = F.mse_loss(model(u), target)
        fabric.backward(loss)
        optimizer.step()
    facts = {"w_out_in_parameters": any(p is core.w_out for p in core.parameters()),
             "w_out_changed": not torch.equal(w0, core.w_out),
             "input_scale_changed": not torch.equal(s0, core.input_scale)}
    return {"model": core, "w_out": core.w_out}, facts

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
