import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from accelerate import Accelerator


class TinyUNet(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.bottleneck = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(ch, ch, 2, stride=2)
        self.out = nn.Conv2d(2 * ch, 1, 1)
        self.skip = nn.Conv2d(1, ch, 1)

    def forward(self, x):
        h = self.up(self.bottleneck(self.down(x)))
        return self.out(torch.cat([h, self.skip(x)], dim=1))


def soft_dice_loss(logits, masks, smooth=1.0):
    probs = torch.sigmoid(logits).detach().cpu().numpy()
    target = masks.cpu().numpy()
    inter = (probs * target).sum(axis=(1, 2, 3))
    union = probs.sum(axis=(1, 2, 3)) + target.sum(axis=(1, 2, 3))
    dice = (2.0 * inter + smooth) / (union + smooth)
    return torch.tensor(1.0 - np.mean(dice), requires_grad=True)


def make_loader(n=16, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(n, 1, size, size, generator=g)
    masks = (images > 0.3).float()
    return DataLoader(TensorDataset(images, masks), batch_size=4, shuffle=True, generator=g)


def train(accelerator, model, optimizer, loader, scheduler, epochs=2):
    model.train()
    for epoch in range(epochs):
        for images, masks in loader:
            optimizer.zero_grad()
            loss = soft_dice_loss(model(images), masks)
            accelerator.backward(loss)
            optimizer.step()
        scheduler.step()
    return loss


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    model = TinyUNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, make_loader(), scheduler)
    before = model.out.weight.detach().clone()
    last_loss = train(accelerator, model, optimizer, loader, scheduler)
    facts = {
        "loss_is_leaf": last_loss.grad_fn is None,
        "model_changed": not torch.equal(before, accelerator.unwrap_model(model).out.weight.detach()),
    }
    return {"model": accelerator.unwrap_model(model)}, facts

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
