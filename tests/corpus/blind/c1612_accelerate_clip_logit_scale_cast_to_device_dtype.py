import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class DualEncoder(nn.Module):
    def __init__(self, img_dim=20, txt_dim=12, embed=16):
        super().__init__()
        self.image_tower = nn.Sequential(nn.Linear(img_dim, 32), nn.GELU(), nn.Linear(32, embed))
        self.text_tower = nn.Sequential(nn.Linear(txt_dim, 32), nn.GELU(), nn.Linear(32, embed))

    def forward(self, images, texts):
        return F.normalize(self.image_tower(images), dim=-1), F.normalize(self.text_tower(texts), dim=-1)


def clip_loss(img_emb, txt_emb, logit_scale):
    logits = logit_scale.exp() * img_emb @ txt_emb.t()
    target = torch.arange(logits.size(0), device=logits.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2


def make_loader(n=96):
    g = torch.Generator().manual_seed(37)
    latent = torch.randn(n, 6, generator=g)
    images = latent @ torch.randn(6, 20, generator=g) + 0.1 * torch.randn(n, 20, generator=g)
    texts = latent @ torch.randn(6, 12, generator=g) + 0.1 * torch.randn(n, 12, generator=g)
    return DataLoader(TensorDataset(images, texts), batch_size=16, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = DualEncoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    logit_scale = torch.tensor(np.log(1 / 0.07), requires_grad=True).to(accelerator.device, dtype=torch.float32)
    scale_lr = 1e-2
    for epoch in range(2):
        for images, texts in loader:
            optimizer.zero_grad()
            loss = clip_loss(*model(images, texts), logit_scale)
            accelerator.backward(loss)
            optimizer.step()
            with torch.no_grad():
                logit_scale -= scale_lr * logit_scale.grad
                logit_scale.clamp_(0, np.log(100))
    return {"model": model, "logit_scale": logit_scale}

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
