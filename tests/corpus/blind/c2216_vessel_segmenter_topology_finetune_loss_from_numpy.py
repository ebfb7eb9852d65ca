import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SmallUNet(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.mid = nn.Sequential(nn.Conv2d(ch, 2 * ch, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(2 * ch, ch, 2, stride=2)
        self.out = nn.Conv2d(2 * ch, 1, 1)

    def forward(self, x):
        d = self.down(x)
        u = self.up(self.mid(self.pool(d)))
        return self.out(torch.cat([d, u], dim=1))


def dice_loss(prob, gt, eps=1.0):
    inter = (prob * gt).sum((1, 2, 3))
    return (1 - (2 * inter + eps) / (prob.sum((1, 2, 3)) + gt.sum((1, 2, 3)) + eps)).mean()


def topo_loss_np(likelihood, gt, band=0.1):
    """Topology-aware loss: weights the pixels whose likelihood sits near the 0.5 level set (critical points)."""
    critical = (np.abs(likelihood - 0.5) < band).astype(np.float32)
    weight = 1.0 + 4.0 * critical
    return float(np.mean(weight * (likelihood - gt) ** 2))


def pretrain(model, loader, optimizer, epochs=1):
    for _ in range(epochs):
        for img, gt in loader:
            loss = dice_loss(torch.sigmoid(model(img)), gt)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def finetune_topology(model, loader, optimizer, lam=1.0, epochs=1):
    for _ in range(epochs):
        for img, gt in loader:
            likelihood = torch.sigmoid(model(img))
            topo = topo_loss_np(likelihood.detach().cpu().numpy(), gt.cpu().numpy())
            loss = torch.tensor(lam * topo, requires_grad=True)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    img = torch.rand(8, 1, 16, 16)
    gt = (img > 0.6).float()
    loader = DataLoader(TensorDataset(img, gt), batch_size=4, shuffle=True)
    model = SmallUNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    pretrain(model, loader, optimizer)
    w0 = model.out.weight.detach().clone()
    finetune_topology(model, loader, optimizer)
    return {"model": model}, {"changed_during_finetune": not torch.equal(w0, model.out.weight)}

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
