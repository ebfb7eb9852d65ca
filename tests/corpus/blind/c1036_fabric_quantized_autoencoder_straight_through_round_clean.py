import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def quantize_ste(x, levels=8):
    """Uniform quantisation of a tanh-bounded latent with a straight-through gradient."""
    scaled = (x + 1) * (levels - 1) / 2
    q = scaled + (torch.round(scaled) - scaled).detach()
    return q * 2 / (levels - 1) - 1


class CompressiveAutoencoder(nn.Module):
    def __init__(self, dim=32, code=6):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, 24), nn.ReLU(), nn.Linear(24, code), nn.Tanh())
        self.decoder = nn.Sequential(nn.Linear(code, 24), nn.ReLU(), nn.Linear(24, dim))

    def forward(self, x):
        return self.decoder(quantize_ste(self.encoder(x)))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    signals = torch.sin(torch.linspace(0, 6.28, 32)[None, :] * torch.rand(64, 1, generator=g) * 4)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(signals), batch_size=16, shuffle=True, generator=g))
    model = CompressiveAutoencoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model, optimizer = fabric.setup(model, optimizer)
    before = model.module.encoder[0].weight.detach().clone()
    for _ in range(2):
        for (x,) in loader:
            loss = F.mse_loss(model(x), x)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"model": model.module}, {"encoder_changed": not torch.equal(before, model.module.encoder[0].weight)}

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
