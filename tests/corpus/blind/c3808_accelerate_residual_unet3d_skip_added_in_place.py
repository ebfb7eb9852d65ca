import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ConvolutionalBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.block = nn.Sequential(nn.Conv3d(cin, cout, 3, padding=1), nn.BatchNorm3d(cout), nn.ReLU())

    def forward(self, x):
        return self.block(x)


class ResidualBlock(nn.Module):
    """Two convolutional blocks with a 1x1x1 projected residual connection."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv_residual = nn.Conv3d(cin, cout, 1)
        self.conv1 = ConvolutionalBlock(cin, cout)
        self.conv2 = ConvolutionalBlock(cout, cout)

    def forward(self, x):
        connection = self.conv_residual(x)
        x = self.conv1(x)
        x = self.conv2(x)
        x += connection
        return x


class ResidualUNet3D(nn.Module):
    def __init__(self, ch=4):
        super().__init__()
        self.enc1 = ResidualBlock(1, ch)
        self.enc2 = ResidualBlock(ch, 2 * ch)
        self.up = nn.ConvTranspose3d(2 * ch, ch, 2, stride=2)
        self.dec1 = ResidualBlock(2 * ch, ch)
        self.out = nn.Conv3d(ch, 1, 1)

    def forward(self, x):
        s1 = self.enc1(x)
        bottom = self.enc2(F.max_pool3d(s1, 2))
        return self.out(self.dec1(torch.cat([self.up(bottom), s1], 1)))


def dice_bce_loss(logits, target, smooth=1.0):
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum(dim=(1, 2, 3, 4))
    dice = (2 * inter + smooth) / (prob.sum(dim=(1, 2, 3, 4)) + target.sum(dim=(1, 2, 3, 4)) + smooth)
    return (1 - dice).mean() + F.binary_cross_entropy_with_logits(logits, target)


def make_loader(n=8, size=8):
    g = torch.Generator().manual_seed(0)
    vols = 0.2 * torch.randn(n, 1, size, size, size, generator=g)
    masks = torch.zeros(n, 1, size, size, size)
    for i in range(n):
        c = torch.randint(2, size - 2, (3,), generator=g)
        masks[i, 0, c[0] - 2:c[0] + 2, c[1] - 2:c[1] + 2, c[2] - 2:c[2] + 2] = 1.0
    return DataLoader(TensorDataset(vols + masks, masks), batch_size=2, shuffle=True)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = ResidualUNet3D()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.PolynomialLR(optimizer, total_iters=8, power=0.9)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, make_loader(), scheduler)
    w0 = model.enc1.conv1.block[0].weight.detach().clone()
    for epoch in range(2):
        for vol, mask in loader:
            loss = dice_bce_loss(model(vol), mask)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
    return {"model": model}, {"encoder_changed": not torch.equal(w0, model.enc1.conv1.block[0].weight)}

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
