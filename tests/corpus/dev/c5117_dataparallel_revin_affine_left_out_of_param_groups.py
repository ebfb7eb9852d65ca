import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"channels": 3, "lookback": 24, "horizon": 6, "hidden": 32, "lr_encoder": 1e-3, "lr_head": 3e-3,
       "weight_decay": 1e-4, "epochs": 2}


class RevIN(nn.Module):
    """Reversible instance normalization with a learnable per-channel affine transform."""

    def __init__(self, channels, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.affine_weight = nn.Parameter(torch.ones(channels))
        self.affine_bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x, mode):
        if mode == "norm":
            self.mean = x.mean(1, keepdim=True).detach()
            self.std = torch.sqrt(x.var(1, keepdim=True, unbiased=False) + self.eps).detach()
            return (x - self.mean) / self.std * self.affine_weight + self.affine_bias
        x = (x - self.affine_bias) / (self.affine_weight + self.eps ** 2)
        return x * self.std + self.mean


class Forecaster(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.revin = RevIN(cfg["channels"])
        self.encoder = nn.Sequential(nn.Linear(cfg["lookback"], cfg["hidden"]), nn.GELU())
        self.head = nn.Linear(cfg["hidden"], cfg["horizon"])

    def forward(self, x):                                   # x: (B, L, C)
        z = self.revin(x, "norm").transpose(1, 2)           # (B, C, L)
        y = self.head(self.encoder(z)).transpose(1, 2)      # (B, H, C)
        return self.revin(y, "denorm")


def build_optimizer(model, cfg):
    net = model.module if isinstance(model, nn.DataParallel) else model
    groups = [
        {"params": net.encoder.parameters(), "lr": cfg["lr_encoder"], "weight_decay": cfg["weight_decay"]},
        {"params": net.head.parameters(), "lr": cfg["lr_head"], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups)


def series_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(cfg["lookback"] + cfg["horizon"]).float()
    phase = torch.rand(n, 1, cfg["channels"], generator=g) * 6.28
    scale = torch.rand(n, 1, cfg["channels"], generator=g) * 10 + 1
    series = scale * torch.sin(t.view(1, -1, 1) / 3 + phase) + 5 * scale
    return DataLoader(TensorDataset(series[:, :cfg["lookback"]], series[:, cfg["lookback"]:]), batch_size=16,
                      shuffle=True, generator=g)


def train(model, loader, optimizer, scheduler, epochs):
    for _ in range(epochs):
        for x, y in loader:
            loss = F.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Forecaster(CFG))
    optimizer = build_optimizer(model, CFG)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=CFG["epochs"])
    rw0 = model.module.revin.affine_weight.detach().clone()
    enc0 = model.module.encoder[0].weight.detach().clone()
    train(model, series_loader(CFG), optimizer, scheduler, CFG["epochs"])
    return {"model": model.module}, {
        "revin_affine_changed": not torch.equal(rw0, model.module.revin.affine_weight),
        "encoder_changed": not torch.equal(enc0, model.module.encoder[0].weight),
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
