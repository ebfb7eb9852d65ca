import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TinyUNet(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.mid = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.up = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(width, 1, 3, padding=1))

    def forward(self, x):
        return self.up(self.mid(self.down(x)))


def soft_skeleton(mask, iters=3):
    """Morphological skeleton approximated with min/max pooling (NumPy port of the reference code)."""
    skel = np.zeros_like(mask)
    img = mask.copy()
    for _ in range(iters):
        eroded = -np.maximum.reduce([-np.roll(img, s, axis=a) for a in (-1, -2) for s in (-1, 1)])
        opened = np.maximum.reduce([np.roll(eroded, s, axis=a) for a in (-1, -2) for s in (-1, 1)])
        skel = np.maximum(skel, np.clip(img - opened, 0, None))
        img = eroded
    return skel


def cldice_loss(logits, target, eps=1.0):
    prob = torch.sigmoid(logits).detach().cpu().numpy()
    tgt = target.cpu().numpy()
    skel_p, skel_t = soft_skeleton(prob), soft_skeleton(tgt)
    tprec = (np.sum(skel_p * tgt) + eps) / (np.sum(skel_p) + eps)
    tsens = (np.sum(skel_t * prob) + eps) / (np.sum(skel_t) + eps)
    score = 2.0 * tprec * tsens / (tprec + tsens)
    return torch.tensor(1.0 - score, dtype=torch.float32, requires_grad=True)


def train(model, loader, optimizer, accelerator, epochs=2):
    model.train()
    for _ in range(epochs):
        for images, masks in loader:
            with accelerator.accumulate(model):
                loss = cldice_loss(model(images), masks)
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
            accelerator.log({"train/cldice": loss.item()})


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=1)
    images = torch.randn(16, 1, 16, 16)
    masks = (F.avg_pool2d(images, 3, 1, 1) > 0.3).float()
    loader = DataLoader(TensorDataset(images, masks), batch_size=4, shuffle=True)
    model = TinyUNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    w0 = model.down[0].weight.detach().clone()
    train(model, loader, optimizer, accelerator)
    loss = cldice_loss(model(images[:4]), masks[:4])
    loss.backward()
    return ({"model": model},
            {"encoder_changed": not torch.equal(w0, model.down[0].weight), "loss_requires_grad": loss.requires_grad})

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
