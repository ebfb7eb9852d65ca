import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ImageTower(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.proj = nn.Linear(8, dim)

    def forward(self, x):
        return self.proj(self.conv(x))


class TextTower(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.emb = nn.EmbeddingBag(vocab, 24, mode="mean")
        self.proj = nn.Linear(24, dim)

    def forward(self, tokens):
        return self.proj(self.emb(tokens))


class DualEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.image = ImageTower()
        self.text = TextTower()

    def forward(self, images, tokens):
        return F.normalize(self.image(images), dim=-1), F.normalize(self.text(tokens), dim=-1)


def make_temperature(init=0.07):
    # learnable log(1/T), as in CLIP
    return torch.tensor(np.log(1.0 / init), requires_grad=True).float()


def clip_loss(img, txt, log_scale):
    logits = log_scale.exp() * img @ txt.t()
    target = torch.arange(img.size(0))
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


def train(model, log_scale, loader, optimizer, temp_lr=1e-2, epochs=1):
    model.train()
    for _ in range(epochs):
        for images, tokens in loader:
            optimizer.zero_grad()
            img, txt = model(images, tokens)
            loss = clip_loss(img, txt, log_scale)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                log_scale -= temp_lr * log_scale.grad
                log_scale.clamp_(max=np.log(100.0))
    return loss.item()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(6)
    data = TensorDataset(torch.randn(24, 3, 8, 8, generator=g), torch.randint(0, 50, (24, 5), generator=g))
    model = nn.DataParallel(DualEncoder())
    log_scale = make_temperature()
    optimizer = torch.optim.Adam(model.module.parameters(), lr=1e-3)
    train(model, log_scale, DataLoader(data, batch_size=8, shuffle=True), optimizer)
    return {"model": model.module, "log_scale": log_scale}

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
