import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class ResEncoderBlock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
                                  nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out))
        self.skip = nn.Conv2d(c_in, c_out, 1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.body(x)
        out = out + self.skip(x)
        return self.act(out)


class VesselNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = ResEncoderBlock(1, 8)
        self.enc2 = ResEncoderBlock(8, 16)
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.dec = ResEncoderBlock(16, 8)
        self.out = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        return self.out(self.dec(torch.cat([self.up(e2), e1], dim=1)))


def masked_bce(logits, target, fov):
    """BCE over the field of view only; pixels outside the retina disc are ignored."""
    weights = torch.ones_like(target)
    weights.masked_fill_(fov == 0, 0.0)
    weights[target > 0.5] *= 3.0
    per_pixel = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (per_pixel * weights).sum() / weights.sum()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    images = torch.rand(12, 1, 16, 16)
    vessels = (images > 0.7).float()
    fov = torch.ones_like(images)
    fov[:, :, :2] = 0
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(images, vessels, fov), batch_size=4, shuffle=True))
    net = VesselNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(net, optimizer)
    w0 = net.enc1.body[0].weight.detach().clone()
    for epoch in range(2):
        for x, y, m in loader:
            optimizer.zero_grad()
            loss = masked_bce(model(x), y, m)
            fabric.backward(loss)
            optimizer.step()
    return {"model": net}, {"encoder_changed": not torch.equal(w0, net.enc1.body[0].weight)}

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
