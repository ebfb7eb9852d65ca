import math
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"img": 32, "embed_dim": 32, "patch": 4, "num_points": 3,
       "lr_decoder": 1e-3, "lr_prompt": 5e-4, "iou_weight": 0.5}


def embed_points(prompt_encoder, coords, labels):
    """Point prompts -> sparse embeddings (also used by the click-annotation tool)."""
    pe = prompt_encoder.positional(coords)
    label_emb = prompt_encoder.point_embed(labels.clamp(min=0))
    pad = (labels < 0).unsqueeze(-1)
    sparse = torch.where(pad, prompt_encoder.not_a_point.weight.expand_as(pe), pe + label_emb)
    return sparse.detach()


class ImageEncoder(nn.Module):
    def __init__(self, dim, patch):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
        self.blocks = nn.Sequential(nn.Conv2d(dim, dim, 3, padding=1), nn.GELU(), nn.Conv2d(dim, dim, 3, padding=1))
        self.neck = nn.Conv2d(dim, dim, 1)

    def forward(self, x):
        x = self.patch_embed(x)
        return self.neck(x + self.blocks(x))


class PromptEncoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.register_buffer("gaussian", torch.randn(2, dim // 2))
        self.point_embed = nn.Embedding(2, dim)   # 0 = background click, 1 = foreground click
        self.not_a_point = nn.Embedding(1, dim)

    def positional(self, coords):
        proj = (2 * coords - 1) @ self.gaussian * 2 * math.pi
        return torch.cat([proj.sin(), proj.cos()], dim=-1)


class MaskDecoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.mask_token = nn.Embedding(1, dim)
        self.iou_token = nn.Embedding(1, dim)
        self.self_attn = nn.MultiheadAttention(dim, 4, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(dim, 4, batch_first=True)
        self.token_mlp = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.upscale = nn.ConvTranspose2d(dim, dim // 4, kernel_size=4, stride=4)
        self.hyper = nn.Linear(dim, dim // 4)
        self.iou_head = nn.Linear(dim, 1)

    def forward(self, image_emb, sparse):
        B, C, H, W = image_emb.shape
        tokens = torch.cat([self.iou_token.weight, self.mask_token.weight], 0).unsqueeze(0).expand(B, -1, -1)
        tokens = torch.cat([tokens, sparse], dim=1)
        tokens = tokens + self.self_attn(tokens, tokens, tokens)[0]
        keys = image_emb.flatten(2).transpose(1, 2)
        attn, _ = self.cross_attn(tokens, keys, keys)
        tokens = tokens + attn
        tokens = tokens + self.token_mlp(tokens)
        up = self.upscale(image_emb)
        w = self.hyper(tokens[:, 1])
        masks = torch.einsum("bc,bchw->bhw", w, up)
        return masks, self.iou_head(tokens[:, 0]).squeeze(-1)


class SamFinetune(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.image_encoder = ImageEncoder(cfg["embed_dim"], cfg["patch"])
        self.image_encoder.requires_grad_(False)
        self.prompt_encoder = PromptEncoder(cfg["embed_dim"])
        self.mask_decoder = MaskDecoder(cfg["embed_dim"])

    def forward(self, images, coords, labels):
        with torch.no_grad():
            image_emb = self.image_encoder(images)
        sparse = embed_points(self.prompt_encoder, coords, labels)
        return self.mask_decoder(image_emb, sparse)

    def training_step(self, batch, batch_idx):
        images, coords, labels, gt = batch
        logits, iou_pred = self(images, coords, labels)
        prob = logits.sigmoid()
        inter = (prob * gt).flatten(1).sum(-1)
        union = (prob + gt - prob * gt).flatten(1).sum(-1)
        dice = 1 - (2 * inter + 1) / (prob.flatten(1).sum(-1) + gt.flatten(1).sum(-1) + 1)
        seg = F.binary_cross_entropy_with_logits(logits, gt) + dice.mean()
        iou_loss = F.mse_loss(iou_pred, (inter / union.clamp(min=1e-6)).detach())
        loss = seg + self.cfg["iou_weight"] * iou_loss
        self.log("train/loss", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW([
            {"params": self.mask_decoder.parameters(), "lr": self.cfg["lr_decoder"]},
            {"params": self.prompt_encoder.parameters(), "lr": self.cfg["lr_prompt"]},
        ], weight_decay=0.01)


def click_dataset(cfg, n=16):
    g = torch.Generator().manual_seed(0)
    images = torch.randn(n, 3, cfg["img"], cfg["img"], generator=g)
    gt = (images[:, :1].mean(1) > 0).float()
    coords = torch.rand(n, cfg["num_points"], 2, generator=g)
    labels = torch.randint(-1, 2, (n, cfg["num_points"]), generator=g)
    return DataLoader(TensorDataset(images, coords, labels, gt), batch_size=4, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = SamFinetune(CFG)
    pe0 = model.prompt_encoder.point_embed.weight.detach().clone()
    dec0 = model.mask_decoder.hyper.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, click_dataset(CFG))
    return {"model": model}, {
        "prompt_encoder_changed": not torch.equal(pe0, model.prompt_encoder.point_embed.weight),
        "mask_decoder_changed": not torch.equal(dec0, model.mask_decoder.hyper.weight),
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
