import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning as L
from torch.utils.data import DataLoader, TensorDataset


class ImageTower(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.GELU(), nn.Conv2d(8, dim, 3, 2, 1))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return self.proj(self.conv(x).mean((2, 3)))


class TextTower(nn.Module):
    def __init__(self, vocab=30, dim=16):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, tokens):
        return self.proj(self.embed(tokens))


class ContrastiveHead(nn.Module):
    def __init__(self, init_temperature=0.07, learn_temperature=True):
        super().__init__()
        value = torch.tensor(math.log(1.0 / init_temperature))
        if learn_temperature:
            self.logit_scale = value.clone().requires_grad_(True)
        else:
            self.register_buffer("logit_scale", value)

    def forward(self, img, txt):
        img, txt = F.normalize(img, dim=-1), F.normalize(txt, dim=-1)
        logits = self.logit_scale.exp() * img @ txt.t()
        target = torch.arange(len(img))
        return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2


class MiniCLIP(L.LightningModule):
    def __init__(self, lr=5e-3):
        super().__init__()
        self.image_tower = ImageTower()
        self.text_tower = TextTower()
        self.head = ContrastiveHead()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        images, tokens = batch
        loss = self.head(self.image_tower(images), self.text_tower(tokens))
        self.log("train/clip_loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=0.1)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)}


def main():
    L.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.rand(8, 3, 16, 16, generator=g), torch.randint(0, 30, (8, 5), generator=g))
    model = MiniCLIP()
    scale_before = model.head.logit_scale.detach().clone()
    L.Trainer(max_epochs=1, logger=False).fit(model, DataLoader(ds, batch_size=4))
    facts = {"temperature_changed": not torch.equal(scale_before, model.head.logit_scale.detach())}
    return {"logit_scale": model.head.logit_scale, "image_tower": model.image_tower}, facts

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
