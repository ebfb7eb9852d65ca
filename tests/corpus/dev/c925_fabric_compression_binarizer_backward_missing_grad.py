import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class StochasticBinarizer(torch.autograd.Function):
    """Binarise to {-1, +1}; stochastic while training, straight-through gradient."""

    @staticmethod
    def forward(ctx, x, training):
        if training:
            prob = (1 + x) / 2
            return torch.where(torch.rand_like(x) < prob, torch.ones_like(x), -torch.ones_like(x))
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class BinaryAutoencoder(nn.Module):
    def __init__(self, channels=16, code_channels=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, channels, 4, 2, 1), nn.ReLU(),
                                     nn.Conv2d(channels, code_channels, 4, 2, 1), nn.Tanh())
        self.decoder = nn.Sequential(nn.ConvTranspose2d(code_channels, channels, 4, 2, 1), nn.ReLU(),
                                     nn.ConvTranspose2d(channels, 1, 4, 2, 1))

    def forward(self, img):
        bits = StochasticBinarizer.apply(self.encoder(img), self.training)
        return self.decoder(bits)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(48, 1, 16, 16, generator=g)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(images), batch_size=12, shuffle=True, generator=g))
    model = BinaryAutoencoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    for _ in range(2):
        for (img,) in loader:
            loss = F.mse_loss(model(img), img)
            optimizer.zero_grad()
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
