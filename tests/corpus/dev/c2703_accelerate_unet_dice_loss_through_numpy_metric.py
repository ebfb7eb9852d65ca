import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class DoubleConv(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())


class TinyUNet(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.down = DoubleConv(1, width)
        self.bottom = DoubleConv(width, 2 * width)
        self.up = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.dec = DoubleConv(2 * width, width)
        self.out = nn.Conv2d(width, 1, 1)

    def forward(self, x):
        d = self.down(x)
        b = self.bottom(F.max_pool2d(d, 2))
        return self.out(self.dec(torch.cat([self.up(b), d], 1)))


def dice_score(pred_mask, true_mask, eps=1e-6):
    """Soft Dice on numpy arrays (shared with the evaluation script)."""
    inter = (pred_mask * true_mask).sum()
    return (2 * inter + eps) / (pred_mask.sum() + true_mask.sum() + eps)


def dice_loss(logits, target):
    probs = torch.sigmoid(logits).detach().cpu().numpy()
    score = dice_score(probs, target.cpu().numpy())
    return torch.tensor(1.0 - score, dtype=torch.float32, requires_grad=True)


def train(accelerator, model, loader, optimizer, scheduler, epochs=2):
    model.train()
    history = []
    for _ in range(epochs):
        for img, mask in loader:
            optimizer.zero_grad()
            loss = dice_loss(model(img), mask)
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            history.append(loss.item())
    return history


def main():
    set_seed(0)
    img = torch.rand(8, 1, 8, 8)
    mask = (img > 0.5).float()
    accelerator = Accelerator()
    model = TinyUNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    loader = DataLoader(TensorDataset(img, mask), batch_size=4, shuffle=True)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    before = model.out.weight.detach().clone()
    train(accelerator, model, loader, optimizer, scheduler)
    return {"model": model}, {"out_conv_changed": not torch.equal(before, model.out.weight)}

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
