import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


def apply_transform(points, trans):
    """points (B, N, 3) @ trans (B, 3, 3), done on the host like the voxel/point utilities."""
    pts = points.detach().cpu().numpy()
    mat = trans.detach().cpu().numpy()
    aligned = np.matmul(pts, mat)
    return torch.from_numpy(aligned).to(points.device)


class TNet(nn.Module):
    def __init__(self, k=3):
        super().__init__()
        self.k = k
        self.mlp = nn.Sequential(nn.Conv1d(k, 32, 1), nn.ReLU(), nn.Conv1d(32, 64, 1), nn.ReLU())
        self.fc = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, k * k))

    def forward(self, x):  # x: (B, k, N)
        feat = self.mlp(x).max(dim=2).values
        delta = self.fc(feat).view(-1, self.k, self.k)
        return torch.eye(self.k, device=x.device).unsqueeze(0) + delta


class PointNetSeg(nn.Module):
    def __init__(self, n_parts):
        super().__init__()
        self.input_tnet = TNet(3)
        self.local = nn.Sequential(nn.Conv1d(3, 32, 1), nn.ReLU(), nn.Conv1d(32, 64, 1), nn.ReLU())
        self.global_mlp = nn.Sequential(nn.Conv1d(64, 128, 1), nn.ReLU())
        self.head = nn.Sequential(nn.Conv1d(64 + 128, 64, 1), nn.ReLU(), nn.Conv1d(64, n_parts, 1))

    def forward(self, points):  # points: (B, N, 3)
        trans = self.input_tnet(points.transpose(1, 2))
        aligned = apply_transform(points, trans)
        local = self.local(aligned.transpose(1, 2))
        glob = self.global_mlp(local).max(dim=2, keepdim=True).values
        glob = glob.expand(-1, -1, local.size(2))
        return self.head(torch.cat([local, glob], dim=1)), trans


def train_one_epoch(model, loader, optimizer, accelerator):
    model.train()
    total = 0.0
    for points, labels in loader:
        logits, _ = model(points)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def make_loader(n=32, n_points=64, n_parts=4):
    g = torch.Generator().manual_seed(0)
    pts = torch.randn(n, n_points, 3, generator=g)
    labels = (pts[..., 2] > 0).long() + 2 * (pts[..., 0] > 0).long()
    return DataLoader(TensorDataset(pts, labels % n_parts), batch_size=8, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = PointNetSeg(n_parts=4)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    tnet0 = model.input_tnet.fc[2].weight.detach().clone()
    head0 = model.head[0].weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, accelerator)
    return {"model": model}, {
        "tnet_changed": not torch.equal(tnet0, model.input_tnet.fc[2].weight),
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
