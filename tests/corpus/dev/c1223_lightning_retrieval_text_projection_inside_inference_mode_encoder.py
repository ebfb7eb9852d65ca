import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TextEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.mix = nn.Sequential(nn.Linear(dim, dim), nn.GELU())

    def forward(self, tokens):
        return self.mix(self.embed(tokens)).mean(1)


class ImageEncoder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(8, dim)

    def forward(self, images):
        return self.fc(self.conv(images).flatten(1))


def clip_loss(logits):
    targets = torch.arange(logits.size(0))
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets))


class CaptionRetriever(pl.LightningModule):
    def __init__(self, dim=16, proj_dim=12):
        super().__init__()
        self.text_encoder = TextEncoder(dim=dim).requires_grad_(False)
        self.text_proj = nn.Linear(dim, proj_dim)
        self.image_encoder = ImageEncoder(dim)
        self.image_proj = nn.Linear(dim, proj_dim)
        self.logit_scale = nn.Parameter(torch.tensor(2.0))

    @torch.inference_mode()
    def encode_text(self, tokens):
        return self.text_proj(self.text_encoder(tokens))

    def encode_image(self, images):
        return self.image_proj(self.image_encoder(images))

    def training_step(self, batch, batch_idx):
        images, tokens = batch
        img = F.normalize(self.encode_image(images), dim=-1)
        txt = F.normalize(self.encode_text(tokens), dim=-1)
        loss = clip_loss(self.logit_scale.exp() * img @ txt.t())
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW([p for p in self.parameters() if p.requires_grad], lr=1e-3)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(24, 3, 16, 16, generator=g), torch.randint(0, 50, (24, 5), generator=g))
    model = CaptionRetriever()
    txt0 = model.text_proj.weight.detach().clone()
    img0 = model.image_proj.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=6))
    facts = {"text_proj_changed": not torch.equal(txt0, model.text_proj.weight),
             "image_proj_changed": not torch.equal(img0, model.image_proj.weight)}
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
