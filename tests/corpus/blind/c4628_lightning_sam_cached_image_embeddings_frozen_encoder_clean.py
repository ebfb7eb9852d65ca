import math
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, Dataset

SETUP = {"img": 32, "dim": 32, "images": 4, "objects_per_image": 3, "lr": 1e-3, "epochs": 2}


class ImageEncoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.stem = nn.Conv2d(3, dim, 4, stride=4)
        self.body = nn.Sequential(nn.Conv2d(dim, dim, 3, padding=1), nn.GELU(), nn.Conv2d(dim, dim, 1))

    def forward(self, x):
        h = self.stem(x)
        return h + self.body(h)


class BoxPromptEncoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.register_buffer("gauss", torch.randn(2, dim // 2))
        self.corner = nn.Embedding(2, dim)

    def forward(self, boxes):
        pts = boxes.view(-1, 2, 2)
        ang = (2 * pts - 1) @ self.gauss * 2 * math.pi
        return torch.cat([ang.sin(), ang.cos()], -1) + self.corner.weight


class MaskDecoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.attn = nn.MultiheadAttention(dim, 4, batch_first=True)
        self.cross = nn.MultiheadAttention(dim, 4, batch_first=True)
        self.upscale = nn.ConvTranspose2d(dim, dim // 4, 4, stride=4)
        self.hyper = nn.Linear(dim, dim // 4)

    def forward(self, emb, sparse):
        B = emb.size(0)
        tok = torch.cat([self.mask_token.expand(B, -1, -1), sparse], 1)
        tok = tok + self.attn(tok, tok, tok)[0]
        keys = emb.flatten(2).transpose(1, 2)
        tok = tok + self.cross(tok, keys, keys)[0]
        return torch.einsum("bc,bchw->bhw", self.hyper(tok[:, 0]), self.upscale(emb))


class ObjectDataset(Dataset):
    def __init__(self, cfg):
        g = torch.Generator().manual_seed(0)
        n, k, s = cfg["images"], cfg["objects_per_image"], cfg["img"]
        self.images = torch.randn(n, 3, s, s, generator=g) * 0.2
        self.items = []
        for i in range(n):
            for _ in range(k):
                x0, y0 = torch.randint(0, s - 8, (2,), generator=g).tolist()
                mask = torch.zeros(s, s)
                mask[y0:y0 + 8, x0:x0 + 8] = 1
                self.images[i, :, y0:y0 + 8, x0:x0 + 8] += 0.5
                self.items.append((i, torch.tensor([x0, y0, x0 + 8, y0 + 8]) / s, mask))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, j):
        return self.items[j]


class SamDecoderFinetune(pl.LightningModule):
    def __init__(self, cfg, images):
        super().__init__()
        self.cfg = cfg
        self.image_encoder = ImageEncoder(cfg["dim"])
        self.prompt_encoder = BoxPromptEncoder(cfg["dim"])
        self.mask_decoder = MaskDecoder(cfg["dim"])
        self.image_encoder.requires_grad_(False)
        self.images = images
        self.embedding_cache = None

    def setup(self, stage=None):
        self.image_encoder.eval()
        with torch.no_grad():
            self.embedding_cache = self.image_encoder(self.images)

    def training_step(self, batch, batch_idx):
        image_idx, boxes, masks = batch
        emb = self.embedding_cache[image_idx]
        logits = self.mask_decoder(emb, self.prompt_encoder(boxes))
        prob = logits.sigmoid()
        dice = 1 - (2 * (prob * masks).sum((1, 2)) + 1) / (prob.sum((1, 2)) + masks.sum((1, 2)) + 1)
        loss = dice.mean() + F.binary_cross_entropy_with_logits(logits, masks)
        self.log("train/loss", loss.item())
        return loss

    def configure_optimizers(self):
        params = list(self.prompt_encoder.parameters()) + list(self.mask_decoder.parameters())
        return torch.optim.AdamW(params, lr=self.cfg["lr"], weight_decay=0.0)


def main():
    pl.seed_everything(0)
    data = ObjectDataset(SETUP)
    model = SamDecoderFinetune(SETUP, data.images)
    dec0 = model.mask_decoder.hyper.weight.detach().clone()
    pe0 = model.prompt_encoder.corner.weight.detach().clone()
    enc0 = model.image_encoder.stem.weight.detach().clone()
    loader = DataLoader(data, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(0))
    trainer = pl.Trainer(max_epochs=SETUP["epochs"], logger=False, enable_checkpointing=False)
    trainer.fit(model, loader)
    return {"model": model}, {
        "decoder_changed": not torch.equal(dec0, model.mask_decoder.hyper.weight),
        "prompt_encoder_changed": not torch.equal(pe0, model.prompt_encoder.corner.weight),
        "image_encoder_changed": not torch.equal(enc0, model.image_encoder.stem.weight),
    }

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
