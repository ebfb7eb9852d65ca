import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


def offsets_to_grid(offsets: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Turn per-pixel (dx, dy) offsets into a normalised sampling grid for grid_sample."""
    off = offsets.permute(0, 2, 3, 1).detach().cpu().numpy()
    ys, xs = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    gx = 2 * (xs[None] + off[..., 0]) / max(width - 1, 1) - 1
    gy = 2 * (ys[None] + off[..., 1]) / max(height - 1, 1) - 1
    return torch.from_numpy(np.stack([gx, gy], -1).astype(np.float32))


class AdaptivePropagation(nn.Module):
    """PatchmatchNet-style propagation: sample neighbouring depth hypotheses at learned offsets."""

    def __init__(self, ch=8):
        super().__init__()
        self.offset_conv = nn.Conv2d(ch, 2, 3, padding=1)
        nn.init.normal_(self.offset_conv.weight, std=0.01)

    def forward(self, feat, depth):
        grid = offsets_to_grid(self.offset_conv(feat), feat.shape[-2], feat.shape[-1]).to(feat.device)
        return F.grid_sample(depth, grid, mode="bilinear", padding_mode="border", align_corners=True)


class DepthRefiner(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.init_depth = nn.Conv2d(ch, 1, 3, padding=1)
        self.propagation = AdaptivePropagation(ch)
        self.fuse = nn.Conv2d(2, 1, 1)

    def forward(self, img):
        feat = self.encoder(img)
        depth = F.softplus(self.init_depth(feat))
        propagated = self.propagation(feat, depth)
        return F.softplus(self.fuse(torch.cat([depth, propagated], 1)))


def main():
    set_seed(0)
    accelerator = Accelerator(cpu=True)
    model = DepthRefiner()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 3, 8, 8, generator=g), torch.rand(16, 1, 8, 8, generator=g) + 0.5),
                        batch_size=4, shuffle=True, generator=g)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    w0 = model.propagation.offset_conv.weight.detach().clone()
    for epoch in range(2):
        for img, gt in loader:
            loss = F.smooth_l1_loss(model(img), gt)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
    return {"model": model}, {"offset_conv_changed": not torch.equal(w0, model.propagation.offset_conv.weight)}

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
