import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SharedEncoder(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class DenseMultiTask(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.encoder = SharedEncoder(ch)
        self.depth = nn.Conv2d(ch, 1, 1)
        self.normals = nn.Conv2d(ch, 3, 1)

    def forward(self, x):
        h = self.encoder(x)
        return self.depth(h), F.normalize(self.normals(h), dim=1)


def train(model, loader, optimizer, normal_weight=0.5):
    model.train()
    grad_share = []
    for img, depth_gt, normal_gt in loader:
        depth, normals = model(img)
        depth_loss = F.l1_loss(depth, depth_gt)
        normal_loss = (1 - (normals * normal_gt).sum(1)).mean()
        optimizer.zero_grad()
        depth_loss.backward(retain_graph=True)
        enc = model.module.encoder.net[0].weight
        g_depth = enc.grad.norm().item()
        (normal_weight * normal_loss).backward()
        grad_share.append(g_depth / (enc.grad.norm().item() + 1e-12))
        optimizer.step()
    return grad_share


def main():
    torch.manual_seed(0)
    img = torch.randn(8, 3, 8, 8)
    depth_gt, normal_gt = torch.rand(8, 1, 8, 8), F.normalize(torch.randn(8, 3, 8, 8), dim=1)
    net = DenseMultiTask()
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    e0 = net.encoder.net[0].weight.detach().clone()
    share = train(model, DataLoader(TensorDataset(img, depth_gt, normal_gt), batch_size=4), optimizer)
    return ({"model": net}, {"encoder_changed": not torch.equal(e0, net.encoder.net[0].weight), "steps": len(share)})

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
