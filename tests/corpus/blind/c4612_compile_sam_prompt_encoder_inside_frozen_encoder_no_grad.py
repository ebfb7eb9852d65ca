import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

TRAIN_CFG = {"img": 32, "dim": 32, "epochs": 2, "lr": 1e-3, "weight_decay": 0.0, "batch": 4}


class FrozenViTEncoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.patch = nn.Conv2d(1, dim, 4, stride=4)
        self.mix = nn.Sequential(nn.Conv2d(dim, dim, 3, padding=1), nn.GELU(), nn.Conv2d(dim, dim, 1))

    def forward(self, x):
        h = self.patch(x)
        return h + self.mix(h)


class BoxPromptEncoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.register_buffer("freqs", torch.randn(2, dim // 2))
        self.proj = nn.Linear(dim, dim)
        self.corner_embed = nn.Embedding(2, dim)     # top-left, bottom-right

    def forward(self, boxes):                       # boxes: (B, 4) normalized x0, y0, x1, y1
        corners = boxes.view(-1, 2, 2)
        ang = (2 * corners - 1) @ self.freqs * 2 * math.pi
        pe = torch.cat([ang.sin(), ang.cos()], -1)
        return self.proj(pe) + self.corner_embed.weight.unsqueeze(0)


class LightMaskDecoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.mask_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.attn = nn.MultiheadAttention(dim, 4, batch_first=True)
        self.token_to_image = nn.MultiheadAttention(dim, 4, batch_first=True)
        self.upsample = nn.ConvTranspose2d(dim, dim // 4, 4, stride=4)
        self.mlp = nn.Linear(dim, dim // 4)

    def forward(self, image_embeddings, sparse):
        B, C, H, W = image_embeddings.shape
        tokens = torch.cat([self.mask_token.expand(B, -1, -1), sparse], 1)
        tokens = tokens + self.attn(tokens, tokens, tokens)[0]
        img = image_embeddings.flatten(2).transpose(1, 2)
        tokens = tokens + self.token_to_image(tokens, img, img)[0]
        up = self.upsample(image_embeddings)
        return torch.einsum("bc,bchw->bhw", self.mlp(tokens[:, 0]), up)


class MedSAMLite(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.image_encoder = FrozenViTEncoder(dim)
        self.prompt_encoder = BoxPromptEncoder(dim)
        self.mask_decoder = LightMaskDecoder(dim)
        self.image_encoder.requires_grad_(False)

    def forward(self, images, boxes):
        with torch.no_grad():
            image_embeddings = self.image_encoder(images)
            sparse = self.prompt_encoder(boxes)
        return self.mask_decoder(image_embeddings, sparse)


def dice_bce(logits, gt):
    prob = logits.sigmoid()
    inter = (prob * gt).sum((1, 2))
    dice = 1 - (2 * inter + 1) / (prob.sum((1, 2)) + gt.sum((1, 2)) + 1)
    return dice.mean() + F.binary_cross_entropy_with_logits(logits, gt)


def ct_slices(cfg, n=12):
    g = torch.Generator().manual_seed(0)
    imgs = torch.randn(n, 1, cfg["img"], cfg["img"], generator=g) * 0.2
    gts, boxes = torch.zeros(n, cfg["img"], cfg["img"]), torch.zeros(n, 4)
    for i in range(n):
        x0, y0 = torch.randint(2, cfg["img"] // 2, (2,), generator=g).tolist()
        gts[i, y0:y0 + 10, x0:x0 + 10] = 1.0
        imgs[i, 0, y0:y0 + 10, x0:x0 + 10] += 1.0
        boxes[i] = torch.tensor([x0, y0, x0 + 10, y0 + 10]) / cfg["img"]
    return DataLoader(TensorDataset(imgs, boxes, gts), batch_size=cfg["batch"], shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = MedSAMLite(TRAIN_CFG["dim"])
    compiled = torch.compile(model, backend="eager")
    params = list(model.prompt_encoder.parameters()) + list(model.mask_decoder.parameters())
    optimizer = torch.optim.AdamW(params, lr=TRAIN_CFG["lr"], weight_decay=TRAIN_CFG["weight_decay"])
    pe0 = model.prompt_encoder.proj.weight.detach().clone()
    dec0 = model.mask_decoder.mlp.weight.detach().clone()
    for epoch in range(TRAIN_CFG["epochs"]):
        for imgs, boxes, gts in ct_slices(TRAIN_CFG):
            loss = dice_bce(compiled(imgs, boxes), gts)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {"model": model}, {
        "prompt_encoder_changed": not torch.equal(pe0, model.prompt_encoder.proj.weight),
        "decoder_changed": not torch.equal(dec0, model.mask_decoder.mlp.weight),
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
