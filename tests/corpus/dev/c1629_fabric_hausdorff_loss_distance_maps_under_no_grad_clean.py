import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def distance_field(masks):
    """Euclidean distance of every pixel to the foreground/background boundary (brute force, NumPy)."""
    out = np.zeros_like(masks, dtype=np.float32)
    h, w = masks.shape[-2:]
    yy, xx = np.mgrid[0:h, 0:w]
    coords = np.stack([yy.ravel(), xx.ravel()], axis=1).astype(np.float32)
    for i, m in enumerate(masks):
        fg = m.ravel() > 0.5
        if fg.all() or not fg.any():
            continue
        d = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1))
        to_bg = d[:, ~fg].min(axis=1)
        to_fg = d[:, fg].min(axis=1)
        out[i] = np.where(fg, to_bg, to_fg).reshape(h, w)
    return out


class HausdorffDTLoss(nn.Module):
    """Distance-transform Hausdorff loss (Karimi & Salcudean): squared error weighted by both distance maps."""

    def __init__(self, alpha=2.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, pred, target):
        with torch.no_grad():
            pred_dt = torch.from_numpy(distance_field(pred.detach().cpu().numpy())).to(pred.device)
            target_dt = torch.from_numpy(distance_field(target.cpu().numpy())).to(pred.device)
        distance = pred_dt ** self.alpha + target_dt ** self.alpha
        return ((pred - target) ** 2 * distance).mean()


class TinySegNet(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(width, 1, 1)

    def forward(self, x):
        return self.head(self.down(x)).squeeze(1)


def make_loader(n=16, size=10):
    g = torch.Generator().manual_seed(6)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    centers = torch.randint(3, size - 3, (n, 2), generator=g)
    masks = (((yy - centers[:, 0, None, None]) ** 2 + (xx - centers[:, 1, None, None]) ** 2) < 6).float()
    images = masks + 0.3 * torch.randn(n, size, size, generator=g)
    return DataLoader(TensorDataset(images.unsqueeze(1), masks), batch_size=4, shuffle=True, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = TinySegNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    hd_loss = HausdorffDTLoss()
    w0 = model.down[0].weight.detach().clone()
    for epoch in range(2):
        for image, mask in loader:
            optimizer.zero_grad()
            prob = torch.sigmoid(model(image))
            loss = F.binary_cross_entropy(prob, mask) + 0.01 * hd_loss(prob, mask)
            fabric.backward(loss)
            optimizer.step()
    return {"model": model.module}, {"first_conv_changed": not torch.equal(w0, model.down[0].weight)}

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
