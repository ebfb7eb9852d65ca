import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class PatchEncoder(nn.Module):
    """ViT-ish backbone: patch embedding followed by a few transformer blocks."""

    def __init__(self, dim=32, patch=4, depth=4):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.blocks = nn.ModuleList([nn.TransformerEncoderLayer(dim, 4, 2 * dim, dropout=0.0, batch_first=True)
                                     for _ in range(depth)])
        self.patch = patch

    def forward(self, x):
        t = self.patch_embed(x)
        self.grid = t.shape[-2:]
        t = t.flatten(2).transpose(1, 2)
        for blk in self.blocks:
            t = blk(t)
        return t


class FeatureTap:
    """Collects the outputs of chosen backbone layers through forward hooks (DPT 'hooks')."""

    def __init__(self, named_modules):
        self.feats = {}
        self.handles = [m.register_forward_hook(self._make_hook(name)) for name, m in named_modules]

    def _make_hook(self, name):
        def hook(module, inputs, output):
            self.feats[name] = output.detach()
        return hook


class Reassemble(nn.Module):
    def __init__(self, dim, out_ch, scale):
        super().__init__()
        self.proj = nn.Conv2d(dim, out_ch, 1)
        self.scale = scale

    def forward(self, tokens, grid):
        b, n, d = tokens.shape
        x = tokens.transpose(1, 2).reshape(b, d, *grid)
        x = self.proj(x)
        return F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False) if self.scale != 1 else x


class DPTDepth(nn.Module):
    def __init__(self, dim=32, feat=16, hooks=(1, 3)):
        super().__init__()
        self.backbone = PatchEncoder(dim)
        self.hook_names = [f"blocks.{k}" for k in hooks]
        self.tap = FeatureTap([(n, self.backbone.get_submodule(n)) for n in self.hook_names])
        self.reassemble = nn.ModuleList([Reassemble(dim, feat, 2), Reassemble(dim, feat, 1)])
        self.fuse = nn.Sequential(nn.Conv2d(feat, feat, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.Conv2d(feat, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 1), nn.Softplus())

    def forward(self, x):
        self.backbone(x)
        grid = self.backbone.grid
        maps = [r(self.tap.feats[n], grid) for r, n in zip(self.reassemble, self.hook_names)]
        x = maps[0] + F.interpolate(maps[1], size=maps[0].shape[-2:], mode="bilinear", align_corners=False)
        x = self.fuse(x)
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return self.head(x).squeeze(1)


def silog_loss(pred, target, lam=0.85):
    d = torch.log(pred + 1e-6) - torch.log(target)
    return torch.sqrt((d ** 2).mean() - lam * d.mean() ** 2 + 1e-8)


def train_one_epoch(model, loader, optimizer, accelerator):
    model.train()
    for images, depth in loader:
        loss = silog_loss(model(images), depth)
        optimizer.zero_grad()
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = DPTDepth()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(12, 3, 16, 16, generator=g)
    depth = 1.0 + images.mean(1) * 3.0
    loader = DataLoader(TensorDataset(images, depth), batch_size=4, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    pe0 = model.backbone.patch_embed.weight.detach().clone()
    head0 = model.head[0].weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, accelerator)
    return {"model": model}, {
        "backbone_changed": not torch.equal(pe0, model.backbone.patch_embed.weight),
        "head_changed": not torch.equal(head0, model.head[0].weight),
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
