import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PretrainedImageEncoder(nn.Module):
    def __init__(self, dim=24):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.proj = nn.Linear(8, dim)

    def forward(self, images):
        return self.proj(self.pool(self.stem(images)).flatten(1))


class TextEncoder(nn.Module):
    def __init__(self, vocab=80, dim=24):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.rnn = nn.GRU(dim, dim, batch_first=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, ids):
        _, h = self.rnn(self.tok(ids))
        return self.proj(h[-1])


class LiT(nn.Module):
    """Locked-image text tuning: the image tower is frozen, the text tower learns to match it."""

    def __init__(self):
        super().__init__()
        self.image_encoder = PretrainedImageEncoder()
        self.text_encoder = TextEncoder()
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.image_encoder.requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        self.image_encoder.eval()  # keep frozen BatchNorm statistics fixed
        return self

    def encode_image(self, images):
        with torch.no_grad():
            return F.normalize(self.image_encoder(images), dim=-1)

    def forward(self, images, ids):
        img = self.encode_image(images)
        txt = F.normalize(self.text_encoder(ids), dim=-1)
        return self.logit_scale.exp().clamp(max=100) * txt @ img.t()


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for images, ids in loader:
            logits = model(images, ids)
            targets = torch.arange(logits.size(0))
            loss = (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets)) / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = LiT()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    loader = DataLoader(TensorDataset(torch.randn(32, 3, 8, 8), torch.randint(0, 80, (32, 6))), batch_size=8)
    img0 = model.image_encoder.proj.weight.detach().clone()
    rm0 = model.image_encoder.stem[1].running_mean.clone()
    scale0 = model.logit_scale.detach().clone()
    train(model, loader, optimizer)
    facts = {
        "image_tower_frozen": torch.equal(img0, model.image_encoder.proj.weight.detach()),
        "bn_stats_frozen": torch.equal(rm0, model.image_encoder.stem[1].running_mean),
        "logit_scale_changed": not torch.equal(scale0, model.logit_scale.detach()),
    }
    return {"model": model}, facts

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
