import torch
import torch.nn as nn
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def subnet(c_in, c_out):
    return nn.Sequential(nn.Linear(c_in, 24), nn.ReLU(), nn.Linear(24, 2 * c_out))


class GLOWCouplingBlock(nn.Module):
    """Two affine couplings per block (FrEIA-style), each half conditioned on the other."""

    def __init__(self, dim, clamp=2.0):
        super().__init__()
        self.d1 = dim // 2
        self.d2 = dim - self.d1
        self.clamp = clamp
        self.subnet1 = subnet(self.d1, self.d2)
        self.subnet2 = subnet(self.d2, self.d1)

    def _affine(self, a):
        s, t = a.chunk(2, dim=1)
        return self.clamp * torch.tanh(s / self.clamp), t

    def forward(self, x):
        x1 = x[:, :self.d1]
        x2 = x[:, self.d1:]
        s2, t2 = self._affine(self.subnet2(x2))
        x1 *= torch.exp(s2)
        x1 += t2
        s1, t1 = self._affine(self.subnet1(x1))
        y2 = x2 * torch.exp(s1) + t1
        return torch.cat([x1, y2], dim=1), s1.sum(dim=1) + s2.sum(dim=1)


class ConditionalINN(nn.Module):
    def __init__(self, dim=6, n_blocks=3):
        super().__init__()
        self.blocks = nn.ModuleList([GLOWCouplingBlock(dim) for _ in range(n_blocks)])
        self.register_buffer("perm", torch.randperm(dim))

    def forward(self, x):
        log_jac = torch.zeros(x.shape[0])
        for block in self.blocks:
            x, lj = block(x[:, self.perm])
            log_jac = log_jac + lj
        return x, log_jac


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    inn = ConditionalINN()
    optimizer = torch.optim.Adam(inn.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(inn, optimizer)
    data = torch.randn(48, 6) * torch.tensor([1.0, 0.5, 2.0, 1.0, 0.3, 1.5])
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(data), batch_size=12, shuffle=True))
    for (x,) in loader:
        z, log_jac = model(x)
        loss = (0.5 * (z ** 2).sum(dim=1) - log_jac).mean()
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"inn": inn}

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
