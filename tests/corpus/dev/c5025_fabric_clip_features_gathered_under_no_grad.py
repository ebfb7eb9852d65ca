import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"img_dim": 32, "vocab": 60, "tokens": 6, "embed": 16, "lr": 2e-3, "epochs": 2, "batch": 16}


class TinyCLIP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.image_encoder = nn.Sequential(nn.Linear(cfg["img_dim"], 64), nn.GELU(), nn.Linear(64, cfg["embed"]))
        self.token_bag = nn.EmbeddingBag(cfg["vocab"], 32, mode="mean")
        self.text_proj = nn.Linear(32, cfg["embed"])
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_image(self, img):
        return F.normalize(self.image_encoder(img), dim=-1)

    def encode_text(self, tokens):
        return F.normalize(self.text_proj(self.token_bag(tokens)), dim=-1)


def gather_features(fabric, img_feats, txt_feats):
    """Collect every rank's embeddings so the contrastive loss sees the global batch."""
    with torch.no_grad():
        all_img = fabric.all_gather(img_feats).reshape(-1, img_feats.shape[-1])
        all_txt = fabric.all_gather(txt_feats).reshape(-1, txt_feats.shape[-1])
    return all_img, all_txt


def clip_loss(all_img, all_txt, logit_scale):
    logits = logit_scale.exp().clamp(max=100) * all_img @ all_txt.t()
    labels = torch.arange(len(logits), device=logits.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2


def train(fabric, model, optimizer, loader, cfg):
    model.train()
    for epoch in range(cfg["epochs"]):
        for img, tokens in loader:
            all_img, all_txt = gather_features(fabric, model.encode_image(img), model.encode_text(tokens))
            loss = clip_loss(all_img, all_txt, model.logit_scale)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
        fabric.log("clip_loss", loss.item())


def paired_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, cfg["vocab"], (n, cfg["tokens"]), generator=g)
    img = F.one_hot(tokens, cfg["vocab"]).float().sum(1)[:, : cfg["img_dim"]] + 0.1 * torch.randn(n, cfg["img_dim"], generator=g)
    return DataLoader(TensorDataset(img, tokens), batch_size=cfg["batch"], shuffle=True, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = TinyCLIP(CFG)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"], weight_decay=0.1)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(paired_loader(CFG))
    img0 = model.module.image_encoder[0].weight.detach().clone()
    bag0 = model.module.token_bag.weight.detach().clone()
    scale0 = model.module.logit_scale.detach().clone()
    train(fabric, model, optimizer, loader, CFG)
    return {"model": model.module}, {
        "image_encoder_changed": not torch.equal(img0, model.module.image_encoder[0].weight),
        "text_encoder_changed": not torch.equal(bag0, model.module.token_bag.weight),
        "logit_scale_changed": not torch.equal(scale0, model.module.logit_scale.detach()),
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
