import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class TwoStreamEncoder(nn.Module):
    """Static and dynamic feature streams written into one output buffer."""

    def __init__(self, d_static=6, d_dynamic=10, d_out=16, split=6):
        super().__init__()
        self.static_net = nn.Sequential(nn.Linear(d_static, split), nn.ReLU())
        self.dynamic_net = nn.GRU(d_dynamic, d_out - split, batch_first=True)
        self.split = split
        self.d_out = d_out

    def forward(self, static, dynamic):
        out = static.new_zeros(static.shape[0], self.d_out)
        out[:, :self.split] = self.static_net(static)
        _, h = self.dynamic_net(dynamic)
        out[:, self.split:] = h[-1]
        return out


class ReadmissionModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = TwoStreamEncoder()
        self.head = nn.Sequential(nn.LayerNorm(16), nn.Linear(16, 1))

    def forward(self, static, dynamic):
        return self.head(self.encoder(static, dynamic)).squeeze(-1)


def mask_missing(dynamic, p=0.1, generator=None):
    dynamic = dynamic.clone()
    dynamic[torch.rand(dynamic.shape, generator=generator) < p] = 0.0
    return dynamic


def make_loader(n=32, bs=8):
    g = torch.Generator().manual_seed(16)
    static = torch.randn(n, 6, generator=g)
    dynamic = torch.randn(n, 5, 10, generator=g)
    y = ((static[:, 0] + dynamic[:, -1, 0]) > 0).float()
    return DataLoader(TensorDataset(static, dynamic, y), batch_size=bs, shuffle=True)


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = ReadmissionModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    enc = model.module.encoder
    s0 = enc.static_net[0].weight.detach().clone()
    d0 = enc.dynamic_net.weight_ih_l0.detach().clone()
    g = torch.Generator().manual_seed(1)
    model.train()
    for _ in range(2):
        for static, dynamic, y in loader:
            optimizer.zero_grad()
            logits = model(static, mask_missing(dynamic, generator=g))
            loss = F.binary_cross_entropy_with_logits(logits, y)
            fabric.backward(loss)
            optimizer.step()
    return {"encoder": enc, "head": model.module.head}, {
        "static_changed": not torch.equal(s0, enc.static_net[0].weight),
        "dynamic_changed": not torch.equal(d0, enc.dynamic_net.weight_ih_l0),
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
