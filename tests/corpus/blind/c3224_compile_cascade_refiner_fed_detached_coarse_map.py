import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CoarseToFineDepth(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.coarse_head = nn.Conv2d(ch, 1, 1)
        self.refiner = nn.Sequential(nn.Conv2d(4, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, 1, 3, padding=1))

    def forward(self, image):
        coarse = F.softplus(self.coarse_head(self.backbone(image)))
        residual = self.refiner(torch.cat([coarse.detach(), image], 1))
        return coarse, F.softplus(coarse.detach() + residual)


def scale_invariant_loss(pred, target, lam=0.5):
    d = torch.log(pred + 1e-6) - torch.log(target + 1e-6)
    return (d ** 2).mean() - lam * d.mean() ** 2


def train(model, loader, optimizer, epochs=1):
    for _ in range(epochs):
        for image, depth in loader:
            optimizer.zero_grad()
            _, refined = model(image)
            loss = scale_invariant_loss(refined, depth)
            loss.backward()
            optimizer.step()


def rgbd(n=8, size=8):
    g = torch.Generator().manual_seed(0)
    image = torch.rand(n, 3, size, size, generator=g)
    depth = 0.5 + image.mean(1, keepdim=True) + 0.05 * torch.rand(n, 1, size, size, generator=g)
    return DataLoader(TensorDataset(image, depth), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    net = CoarseToFineDepth()
    b0, r0 = net.backbone[0].weight.detach().clone(), net.refiner[0].weight.detach().clone()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    model = torch.compile(net, backend="eager")
    train(model, rgbd(), optimizer)
    facts = {"backbone_changed": not torch.equal(b0, net.backbone[0].weight),
             "refiner_changed": not torch.equal(r0, net.refiner[0].weight)}
    return {"net": net}, facts

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
