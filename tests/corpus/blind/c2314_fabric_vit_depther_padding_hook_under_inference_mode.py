import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class CenterPadding(nn.Module):
    """Pads H and W symmetrically up to a multiple of the patch size (the ViT needs whole patches)."""

    def __init__(self, multiple):
        super().__init__()
        self.multiple = multiple

    def _pad(self, size):
        new_size = math.ceil(size / self.multiple) * self.multiple
        left = (new_size - size) // 2
        return left, new_size - size - left

    @torch.inference_mode()
    def forward(self, x):
        h_pad = self._pad(x.shape[-2])
        w_pad = self._pad(x.shape[-1])
        return F.pad(x, w_pad + h_pad)


class TinyViTBackbone(nn.Module):
    def __init__(self, patch=8, dim=32, depth=2):
        super().__init__()
        self.patch = patch
        self.patch_embed = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(dim, nhead=4, dim_feedforward=2 * dim, batch_first=True) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        tokens = self.patch_embed(x)
        b, c, h, w = tokens.shape
        tokens = tokens.flatten(2).transpose(1, 2)
        for blk in self.blocks:
            tokens = blk(tokens)
        return self.norm(tokens).transpose(1, 2).reshape(b, c, h, w)


class DPTLiteHead(nn.Module):
    def __init__(self, dim=32, min_depth=0.1, max_depth=10.0):
        super().__init__()
        self.min_depth, self.max_depth = min_depth, max_depth
        self.reassemble = nn.Conv2d(dim, 16, kernel_size=1)
        self.fuse = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 1, 3, padding=1))

    def forward(self, feats, out_hw):
        x = F.interpolate(self.reassemble(feats), size=out_hw, mode="bilinear", align_corners=False)
        return self.min_depth + (self.max_depth - self.min_depth) * torch.sigmoid(self.fuse(x))


class MonoDepther(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = TinyViTBackbone()
        self.decode_head = DPTLiteHead()
        # same as the hub depther: the backbone pads its own input to whole patches
        self.backbone.register_forward_pre_hook(lambda _, args: (CenterPadding(self.backbone.patch)(args[0]),))

    def forward(self, image):
        h, w = image.shape[-2:]
        feats = self.backbone(image)
        depth = self.decode_head(feats, (feats.shape[-2] * self.backbone.patch, feats.shape[-1] * self.backbone.patch))
        top = (depth.shape[-2] - h) // 2
        left = (depth.shape[-1] - w) // 2
        return depth[..., top:top + h, left:left + w]


def silog_loss(pred, target, lam=0.85):
    d = torch.log(pred) - torch.log(target)
    return torch.sqrt((d ** 2).mean() - lam * d.mean() ** 2 + 1e-6)


def finetune(fabric, model, loader, epochs=1):
    optimizer = torch.optim.AdamW([
        {"params": model.backbone.parameters(), "lr": 1e-5},
        {"params": model.decode_head.parameters(), "lr": 1e-3},
    ])
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(loader)
    model.train()
    for _ in range(epochs):
        for image, depth in loader:
            loss = silog_loss(model(image), depth)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            fabric.log("train/silog", loss.item())
    return model


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    images = torch.randn(8, 3, 30, 30)
    depths = torch.rand(8, 1, 30, 30) * 5 + 0.5
    model = MonoDepther()
    head0 = model.decode_head.reassemble.weight.detach().clone()
    finetune(fabric, model, DataLoader(TensorDataset(images, depths), batch_size=4))
    return ({"model": model},
            {"head_changed": not torch.equal(head0, model.decode_head.reassemble.weight)})

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
