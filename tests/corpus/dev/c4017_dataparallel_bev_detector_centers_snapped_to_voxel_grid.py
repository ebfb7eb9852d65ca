import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class BEVBackbone(nn.Module):
    def __init__(self, in_ch=3, ch=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(in_ch, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())

    def forward(self, bev):
        return self.net(bev)


class CenterHead(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.heatmap = nn.Conv2d(ch, 1, 1)
        self.offset_head = nn.Conv2d(ch, 2, 1)
        self.size_head = nn.Conv2d(ch, 2, 1)

    def forward(self, feats):
        return self.heatmap(feats), self.offset_head(feats), self.size_head(feats)


class CenterPointBEV(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = BEVBackbone()
        self.head = CenterHead()

    def forward(self, bev):
        return self.head(self.backbone(bev))


def to_voxel_centers(xy, voxel_size):
    return torch.floor(xy / voxel_size) * voxel_size + voxel_size / 2


def gather_at(t, idx):
    b, c, h, w = t.shape
    return t.flatten(2).gather(2, idx[:, None, None].expand(b, c, 1)).squeeze(-1)


def detection_loss(outputs, gt_heat, gt_center, gt_size, cfg):
    heat, offsets, sizes = outputs
    w = heat.size(-1)
    peak = gt_heat.flatten(1).argmax(1)
    anchor = torch.stack([peak % w, peak // w], dim=1).float() * cfg["voxel"]
    pred_centers = to_voxel_centers(anchor + gather_at(offsets, peak), cfg["voxel"])
    loss_heat = F.binary_cross_entropy_with_logits(heat, gt_heat)
    loss_center = F.l1_loss(pred_centers, gt_center)
    loss_size = F.l1_loss(gather_at(sizes, peak), gt_size)
    return loss_heat + loss_center + loss_size


def train_one_epoch(model, loader, optimizer, cfg):
    model.train()
    for bev, heat, center, size in loader:
        loss = detection_loss(model(bev), heat, center, size, cfg)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def make_scenes(n=16, hw=8, voxel=0.5):
    g = torch.Generator().manual_seed(0)
    bev = torch.randn(n, 3, hw, hw, generator=g)
    idx = torch.randint(0, hw * hw, (n,), generator=g)
    heat = torch.zeros(n, 1, hw, hw)
    heat.view(n, -1)[torch.arange(n), idx] = 1.0
    center = torch.stack([idx % hw, idx // hw], 1).float() * voxel + torch.rand(n, 2, generator=g) * voxel
    size = torch.rand(n, 2, generator=g) + 1.0
    return DataLoader(TensorDataset(bev, heat, center, size), batch_size=8, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    cfg = {"voxel": 0.5, "lr": 2e-3}
    model = nn.DataParallel(CenterPointBEV())
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    off0 = model.module.head.offset_head.weight.detach().clone()
    size0 = model.module.head.size_head.weight.detach().clone()
    loader = make_scenes(voxel=cfg["voxel"])
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, cfg)
    return {"model": model}, {
        "offset_head_changed": not torch.equal(off0, model.module.head.offset_head.weight),
        "size_head_changed": not torch.equal(size0, model.module.head.size_head.weight),
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
