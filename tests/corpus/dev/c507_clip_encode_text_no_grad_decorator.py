import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ImageTower(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.GELU(),
                                  nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.GELU())
        self.proj = nn.Linear(32, dim)

    def forward(self, images):
        return self.proj(self.conv(images).mean(dim=(2, 3)))


class TextTower(nn.Module):
    def __init__(self, vocab=100, width=32, dim=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, width))
        self.proj = nn.Linear(width, dim)

    def forward(self, tokens):
        h = self.embed(tokens)
        h = h + self.mlp(h)
        return self.proj(h.mean(dim=1))


class DualEncoder(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.image = ImageTower(dim)
        self.text = TextTower(dim=dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_image(self, images):
        return F.normalize(self.image(images), dim=-1)

    @torch.no_grad()
    def encode_text(self, tokens):
        return F.normalize(self.text(tokens), dim=-1)

    def forward(self, images, tokens):
        return self.encode_image(images), self.encode_text(tokens), self.logit_scale.exp()


def zero_shot_classifier(model, class_prompts):
    """Class embeddings for zero-shot evaluation (one prompt per class)."""
    return model.encode_text(class_prompts)


def clip_loss(image_emb, text_emb, scale):
    logits = scale * image_emb @ text_emb.t()
    target = torch.arange(logits.shape[0])
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for images, tokens in loader:
            image_emb, text_emb, scale = model(images, tokens)
            loss = clip_loss(image_emb, text_emb, scale)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(48, 3, 16, 16, generator=g)
    tokens = torch.randint(0, 100, (48, 8), generator=g)
    loader = DataLoader(TensorDataset(images, tokens), batch_size=16, shuffle=True, generator=g)
    model = DualEncoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    train(model, loader, optimizer)
    classifier = zero_shot_classifier(model, torch.randint(0, 100, (5, 8), generator=g))
    return {"model": model}, {"classifier_shape": list(classifier.shape)}

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
