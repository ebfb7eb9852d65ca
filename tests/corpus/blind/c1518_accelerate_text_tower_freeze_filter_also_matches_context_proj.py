import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TextEncoder(nn.Module):
    def __init__(self, vocab=64, dim=16):
        super().__init__()
        self.tokens = nn.EmbeddingBag(vocab, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, ids):
        return self.proj(self.tokens(ids))


class ImageEncoder(nn.Module):
    def __init__(self, in_dim=32, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, x):
        return self.net(x)


class MemeClassifier(nn.Module):
    """Image features fused with a caption context vector from a pretrained (frozen) text encoder."""

    def __init__(self, dim=16, n_classes=2):
        super().__init__()
        self.text_encoder = TextEncoder(dim=dim)
        self.image_encoder = ImageEncoder(dim=dim)
        self.context_proj = nn.Linear(2 * dim, dim)
        self.classifier = nn.Linear(dim, n_classes)

    def forward(self, image, caption_ids):
        fused = torch.cat([self.image_encoder(image), self.text_encoder(caption_ids)], dim=-1)
        return self.classifier(F.gelu(self.context_proj(fused)))


def freeze_pretrained_text_tower(model, key="text"):
    for name, param in model.named_parameters():
        if key in name:
            param.requires_grad_(False)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=1)
    g = torch.Generator().manual_seed(73)
    images = torch.randn(48, 32, generator=g)
    captions = torch.randint(0, 64, (48, 6), generator=g)
    labels = (images[:, 0] + (captions[:, 0] > 32).float() > 0.5).long()
    loader = DataLoader(TensorDataset(images, captions, labels), batch_size=12, shuffle=True, generator=g)
    model = MemeClassifier()
    freeze_pretrained_text_tower(model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    fuse0 = model.context_proj.weight.detach().clone()
    img0 = model.image_encoder.net[0].weight.detach().clone()
    for epoch in range(2):
        for image, caption_ids, y in loader:
            optimizer.zero_grad()
            accelerator.backward(F.cross_entropy(model(image, caption_ids), y))
            optimizer.step()
    return {"model": model}, {"context_proj_changed": not torch.equal(fuse0, model.context_proj.weight),
                              "image_encoder_changed": not torch.equal(img0, model.image_encoder.net[0].weight)}

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
