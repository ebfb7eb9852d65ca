import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ImageTower(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.proj = nn.Linear(8, dim)

    def forward(self, x):
        return self.proj(self.conv(x).flatten(1))


class TextTower(nn.Module):
    def __init__(self, vocab=60, dim=16):
        super().__init__()
        self.tok = nn.EmbeddingBag(vocab, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, ids):
        return self.proj(self.tok(ids))


class DualEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.visual = ImageTower()
        self.text = TextTower()

    def forward(self, images, ids):
        return F.normalize(self.visual(images), dim=-1), F.normalize(self.text(ids), dim=-1)


class ClipLoss(nn.Module):
    """Symmetric InfoNCE with a learnable temperature, initialised to 1/0.07 as in CLIP."""

    def __init__(self):
        super().__init__()
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, img, txt):
        logits = self.logit_scale.clamp(max=math.log(100)).exp() * img @ txt.T
        target = torch.arange(len(img), device=img.device)
        return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def make_loader():
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(32, 3, 8, 8, generator=g), torch.randint(0, 60, (32, 5), generator=g)),
                      batch_size=8, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator(cpu=True)
    model, criterion = DualEncoder(), ClipLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=8)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, make_loader(), scheduler)
    scale0 = criterion.logit_scale.detach().clone()
    for epoch in range(2):
        for images, ids in loader:
            img, txt = model(images, ids)
            loss = criterion(img, txt)
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    facts = {"logit_scale_changed": not torch.equal(scale0, criterion.logit_scale),
             "logit_scale_in_optimizer": id(criterion.logit_scale) in held}
    return {"model": model, "logit_scale": criterion.logit_scale}, facts

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
