import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DualEncoder(nn.Module):
    """CLIP-style image/text dual encoder with a learnable temperature."""

    def __init__(self, img_dim=20, txt_dim=12, embed_dim=8):
        super().__init__()
        self.image_proj = nn.Sequential(nn.Linear(img_dim, 16), nn.GELU(), nn.Linear(16, embed_dim))
        self.text_proj = nn.Sequential(nn.Linear(txt_dim, 16), nn.GELU(), nn.Linear(16, embed_dim))
        self.logit_scale = torch.tensor(math.log(1 / 0.07), requires_grad=True)

    def forward(self, images, texts):
        img = F.normalize(self.image_proj(images), dim=-1)
        txt = F.normalize(self.text_proj(texts), dim=-1)
        return self.logit_scale.exp() * img @ txt.t()


def clip_loss(logits):
    targets = torch.arange(logits.size(0))
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets))


def train(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for images, texts in loader:
            optimizer.zero_grad()
            loss = clip_loss(model(images, texts))
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(48, 20), torch.randn(48, 12)), batch_size=16, shuffle=True)
    model = DualEncoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    scale_before = model.logit_scale.detach().clone()
    train(model, loader, optimizer)
    facts = {"logit_scale_changed": not torch.equal(scale_before, model.logit_scale.detach()),
             "logit_scale_in_state_dict": "logit_scale" in model.state_dict()}
    return {"model": model, "logit_scale": model.logit_scale}, facts

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
