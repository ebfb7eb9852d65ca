import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"proj_dim": 16, "hidden": 64, "base_tau": 0.99, "lr": 0.05, "momentum": 0.9, "weight_decay": 1e-5,
       "steps": 4, "batch": 8}


def mlp(in_dim, hidden, out_dim):
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out_dim))


class ResNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.block = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
                                   nn.Conv2d(16, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16))
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        x = self.stem(x)
        x = F.relu(x + self.block(x))
        return self.pool(x).flatten(1)


class BYOLNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.online_encoder = ResNetTiny()
        self.online_projector = mlp(16, cfg["hidden"], cfg["proj_dim"])
        self.predictor = mlp(cfg["proj_dim"], cfg["hidden"], cfg["proj_dim"])
        self.target_encoder = copy.deepcopy(self.online_encoder)
        self.target_projector = copy.deepcopy(self.online_projector)
        for p in list(self.target_encoder.parameters()) + list(self.target_projector.parameters()):
            p.requires_grad = False

    def forward(self, v1, v2):
        p1 = self.predictor(self.online_projector(self.online_encoder(v1)))
        p2 = self.predictor(self.online_projector(self.online_encoder(v2)))
        with torch.no_grad():
            z1 = self.target_projector(self.target_encoder(v1))
            z2 = self.target_projector(self.target_encoder(v2))
        return p1, p2, z1, z2


def regression_loss(p, z):
    p, z = F.normalize(p, dim=-1), F.normalize(z.detach(), dim=-1)
    return 2 - 2 * (p * z).sum(dim=-1)


@torch.no_grad()
def update_target(net, tau):
    for online, target in ((net.online_encoder, net.target_encoder), (net.online_projector, net.target_projector)):
        for po, pt in zip(online.parameters(), target.parameters()):
            pt.data = tau * pt.data + (1 - tau) * po.data


def augment(x):
    flip = torch.rand(x.shape[0], 1, 1, 1) < 0.5
    x = torch.where(flip, x.flip(-1), x)
    return x * (1 + 0.3 * torch.randn(x.shape[0], 3, 1, 1)) + 0.05 * torch.randn_like(x)


def build_optimizer(model, cfg):
    core = model.module
    trainable = [p for n, p in core.named_parameters() if p.requires_grad]
    return torch.optim.SGD(trainable, lr=cfg["lr"], momentum=cfg["momentum"], weight_decay=cfg["weight_decay"])


def train(model, optimizer, images, cfg):
    for step in range(cfg["steps"]):
        batch = images[(step * cfg["batch"]) % len(images):][: cfg["batch"]]
        p1, p2, z1, z2 = model(augment(batch), augment(batch))
        loss = (regression_loss(p1, z2) + regression_loss(p2, z1)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        tau = 1 - (1 - cfg["base_tau"]) * (math.cos(math.pi * step / cfg["steps"]) + 1) / 2
        update_target(model.module, tau)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(16, 3, 16, 16, generator=g)
    model = nn.DataParallel(BYOLNet(CFG))
    optimizer = build_optimizer(model, CFG)
    on0 = model.module.online_encoder.stem[0].weight.detach().clone()
    tg0 = model.module.target_encoder.stem[0].weight.detach().clone()
    train(model, optimizer, images, CFG)
    return {"model": model}, {
        "online_changed": not torch.equal(on0, model.module.online_encoder.stem[0].weight),
        "target_changed": not torch.equal(tg0, model.module.target_encoder.stem[0].weight),
        "target_grads_none": all(p.grad is None for p in model.module.target_encoder.parameters()),
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
