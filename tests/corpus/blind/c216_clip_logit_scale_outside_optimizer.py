import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ImageTower(nn.Module):
    def __init__(self, in_dim=48, embed_dim=16):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, 32), nn.GELU(), nn.Linear(32, embed_dim))

    def forward(self, pixels):
        return self.mlp(pixels.flatten(1))


class TextTower(nn.Module):
    def __init__(self, vocab=100, embed_dim=16):
        super().__init__()
        self.tok = nn.EmbeddingBag(vocab, 32)
        self.proj = nn.Linear(32, embed_dim)

    def forward(self, ids):
        return self.proj(self.tok(ids))


class DualEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.image_encoder = ImageTower()
        self.text_encoder = TextTower()

    def forward(self, pixels, ids):
        img = F.normalize(self.image_encoder(pixels), dim=-1)
        txt = F.normalize(self.text_encoder(ids), dim=-1)
        return img, txt


def clip_loss(img, txt, logit_scale):
    logits = logit_scale.exp().clamp(max=100) * img @ txt.t()
    targets = torch.arange(img.size(0))
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets)) / 2


def train(model, logit_scale, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for pixels, ids in loader:
            img, txt = model(pixels, ids)
            loss = clip_loss(img, txt, logit_scale)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()


def main():
    torch.manual_seed(0)
    model = DualEncoder()
    logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-4, total_steps=6)
    loader = DataLoader(TensorDataset(torch.randn(48, 3, 4, 4), torch.randint(0, 100, (48, 6))), batch_size=16)
    scale0 = logit_scale.detach().clone()
    train(model, logit_scale, loader, optimizer, scheduler)
    return {"model": model, "logit_scale": logit_scale}, {"logit_scale_changed": not torch.equal(scale0, logit_scale.detach())}

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
