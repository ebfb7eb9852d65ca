import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SharedEncoder(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(6, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())

    def forward(self, img1, img2):
        return self.net(torch.cat([img1, img2], 1))


class UnsupervisedFlowNet(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.encoder = SharedEncoder(ch)
        self.flow_head = nn.Conv2d(ch, 2, 3, padding=1)
        self.occlusion_head = nn.Conv2d(ch, 1, 3, padding=1)

    def forward(self, img1, img2):
        feat = self.encoder(img1, img2)
        return 2.0 * torch.tanh(self.flow_head(feat)), torch.sigmoid(self.occlusion_head(feat))


def backward_warp(img, flow):
    b, _, h, w = img.shape
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    x_src = (xs[None] + flow[:, 0]).round().long().clamp(0, w - 1)
    y_src = (ys[None] + flow[:, 1]).round().long().clamp(0, h - 1)
    batch_idx = torch.arange(b)[:, None, None]
    return img.permute(0, 2, 3, 1)[batch_idx, y_src, x_src].permute(0, 3, 1, 2)


def photometric_loss(img1, img2, flow, visible, cfg):
    warped = backward_warp(img2, flow)
    charbonnier = ((img1 - warped) ** 2 + cfg["eps"] ** 2) ** cfg["alpha"]
    data = (visible * charbonnier).sum() / visible.sum().clamp(min=1.0)
    occ_reg = cfg["occ_weight"] * (1.0 - visible).mean()
    return data + occ_reg


def build_optimizer(model, cfg):
    net = model.module
    return torch.optim.Adam([
        {"params": net.encoder.parameters(), "lr": cfg["lr"]},
        {"params": list(net.flow_head.parameters()) + list(net.occlusion_head.parameters()), "lr": cfg["lr"] * 2},
    ])


def train_one_epoch(model, loader, optimizer, cfg):
    model.train()
    for img1, img2 in loader:
        flow, visible = model(img1, img2)
        loss = photometric_loss(img1, img2, flow, visible, cfg)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def video_frames(n=8, size=16):
    g = torch.Generator().manual_seed(0)
    img1 = F.avg_pool2d(torch.rand(n, 3, size + 2, size + 2, generator=g), 3, 1)
    img2 = torch.roll(img1, shifts=(1, -1), dims=(2, 3))
    return DataLoader(TensorDataset(img1, img2), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    cfg = {"lr": 1e-3, "eps": 0.01, "alpha": 0.45, "occ_weight": 0.1, "epochs": 2}
    model = nn.DataParallel(UnsupervisedFlowNet())
    optimizer = build_optimizer(model, cfg)
    flow0 = model.module.flow_head.weight.detach().clone()
    occ0 = model.module.occlusion_head.weight.detach().clone()
    loader = video_frames()
    for _ in range(cfg["epochs"]):
        train_one_epoch(model, loader, optimizer, cfg)
    return {"model": model}, {
        "flow_head_changed": not torch.equal(flow0, model.module.flow_head.weight),
        "occlusion_head_changed": not torch.equal(occ0, model.module.occlusion_head.weight),
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
