import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from lightning.fabric import Fabric

CFG = {"img": 16, "patch": 2, "dim": 24, "window": 4, "num_classes": 3, "lr_backbone": 1e-4, "lr_head": 1e-3,
       "epochs": 2}


class ShiftedWindowBlock(nn.Module):
    def __init__(self, dim, window, shift):
        super().__init__()
        self.window, self.shift = window, shift
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        B, H, W, C = x.shape
        w = self.window
        h = torch.roll(self.norm(x), (-self.shift, -self.shift), (1, 2))
        win = h.reshape(B, H // w, w, W // w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, C)
        q, k, v = self.qkv(win).chunk(3, -1)
        win = self.proj(torch.softmax(q @ k.transpose(1, 2) / C ** 0.5, -1) @ v)
        h = win.reshape(B, H // w, W // w, w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(B, H, W, C)
        x = x + torch.roll(h, (self.shift, self.shift), (1, 2))
        return x + self.mlp(x)


class SwinBackbone(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, cfg["dim"], cfg["patch"], cfg["patch"])
        self.blocks = nn.Sequential(ShiftedWindowBlock(cfg["dim"], cfg["window"], 0),
                                    ShiftedWindowBlock(cfg["dim"], cfg["window"], cfg["window"] // 2))
        self.norm = nn.LayerNorm(cfg["dim"])

    def forward(self, x):
        return self.norm(self.blocks(self.patch_embed(x).permute(0, 2, 3, 1)))


def extract_features(backbone, images):
    """Pooled Swin features (shared with the retrieval-index builder, where it runs over the whole gallery)."""
    with torch.inference_mode():
        return backbone(images).mean((1, 2))


class Classifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.backbone = SwinBackbone(cfg)
        self.head = nn.Sequential(nn.Linear(cfg["dim"], cfg["dim"]), nn.GELU(), nn.Linear(cfg["dim"], cfg["num_classes"]))

    def forward(self, images):
        return self.head(extract_features(self.backbone, images))


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = Classifier(CFG)
    optimizer = torch.optim.AdamW([{"params": model.backbone.parameters(), "lr": CFG["lr_backbone"]},
                                   {"params": model.head.parameters(), "lr": CFG["lr_head"]}])
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    images = torch.randn(24, 3, CFG["img"], CFG["img"], generator=g)
    labels = images[:, :, :8, :8].mean((1, 2, 3)).gt(0).long() + images[:, 0].mean((1, 2)).gt(0.1).long()
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(images, labels), batch_size=8, shuffle=True, generator=g))
    for _ in range(CFG["epochs"]):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"model": model.module}

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
