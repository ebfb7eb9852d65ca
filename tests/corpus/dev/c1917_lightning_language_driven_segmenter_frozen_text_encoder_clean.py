import math

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TextEncoder(nn.Module):
    """Stand-in for a pretrained CLIP text tower: token ids -> normalized label embedding."""

    def __init__(self, vocab=40, dim=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.mixer = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))

    def forward(self, token_ids):
        return F.normalize(self.mixer(self.tok(token_ids).mean(dim=1)), dim=-1)


class PixelEncoder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.proj = nn.Conv2d(16, dim, 1)

    def forward(self, images):
        return F.normalize(self.proj(self.features(images)), dim=1)


class LanguageDrivenSegmenter(pl.LightningModule):
    def __init__(self, label_tokens, lr=1e-3):
        super().__init__()
        self.text_encoder = TextEncoder()
        self.pixel_encoder = PixelEncoder()
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.register_buffer("label_tokens", label_tokens)
        self.lr = lr
        self.text_encoder.requires_grad_(False)
        self.text_encoder.eval()

    def label_embeddings(self):
        with torch.no_grad():
            return self.text_encoder(self.label_tokens)

    def forward(self, images):
        pix = self.pixel_encoder(images)
        text = self.label_embeddings()
        return self.logit_scale.exp() * torch.einsum("bchw,kc->bkhw", pix, text)

    def training_step(self, batch, batch_idx):
        images, masks = batch
        loss = F.cross_entropy(self(images), masks)
        self.log("train/ce", loss.item())
        return loss

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, lr=self.lr)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    label_tokens = torch.randint(0, 40, (4, 5), generator=g)  # "road", "sky", "car", "tree"
    images = torch.rand(12, 3, 10, 10, generator=g)
    masks = torch.randint(0, 4, (12, 10, 10), generator=g)
    loader = DataLoader(TensorDataset(images, masks), batch_size=4, shuffle=True, generator=g)
    model = LanguageDrivenSegmenter(label_tokens)
    p0 = model.pixel_encoder.proj.weight.detach().clone()
    t0 = model.text_encoder.mixer[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model},
            {"pixel_encoder_changed": not torch.equal(p0, model.pixel_encoder.proj.weight),
             "text_encoder_changed": not torch.equal(t0, model.text_encoder.mixer[0].weight)})

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
