import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class PaddedConvBlock(nn.Module):
    """FUNIT-style block: explicit padding, then a conv; the padded map also feeds a 1x1 skip path."""

    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, 1, 0)
        self.skip = nn.Conv2d(in_ch, out_ch, 1, 1, 0)
        self.skip_act = nn.LeakyReLU(0.2, inplace=True)
        self.norm = nn.InstanceNorm2d(out_ch, affine=True)

    def forward(self, x):
        padded = F.pad(x, (1, 1, 1, 1), mode="constant", value=0.0)
        main = self.norm(self.conv(padded))
        skip = self.skip(self.skip_act(padded))[:, :, 1:-1, 1:-1]
        return F.leaky_relu(main + skip, 0.2)


class ContentEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(PaddedConvBlock(3, 8), PaddedConvBlock(8, 8))

    def forward(self, x):
        return self.blocks(x)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Conv2d(8, 3, 3, 1, 1)

    def forward(self, h):
        return torch.tanh(self.out(h))


class Translator(nn.Module):
    def __init__(self):
        super().__init__()
        self.content = ContentEncoder()
        self.decoder = Decoder()

    def forward(self, x):
        return self.decoder(self.content(x))


def train(fabric, model, optimizer, loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.l1_loss(model(x), y)
        fabric.backward(loss)
        optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    x = torch.randn(12, 3, 12, 12)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(x, torch.tanh(x.flip(1))), batch_size=4))
    model = Translator()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    train(fabric, model, optimizer, loader)
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
