import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class SinusoidalTime(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, t):
        half = self.dim // 2
        freqs = torch.exp(-torch.arange(half) * (4.0 / half))
        ang = t[:, None] * 100.0 * freqs
        return torch.cat([ang.sin(), ang.cos()], -1)


class VelocityMLP(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, data_dim=2, hidden=64, cond_dim=16, time_dim=16):
        super().__init__()
        self.time_embed = nn.Sequential(SinusoidalTime(time_dim), nn.Linear(time_dim, hidden), nn.SiLU())
        self.cond_proj = nn.Linear(cond_dim, hidden)
        self.net = nn.Sequential(nn.Linear(data_dim + hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden),
                                 nn.SiLU(), nn.Linear(hidden, data_dim))

    def forward(self, x_t, t, cond_emb):
        h = self.time_embed(t) + self.cond_proj(cond_emb)
        return self.net(torch.cat([x_t, h], -1))


class ClassConditionEncoder(nn.Module):
    """Label embedding plus a small MLP, with a learned null class for classifier-free guidance."""

    def __init__(self, n_classes, cond_dim):
        super().__init__()
        self.embed = nn.Embedding(n_classes + 1, cond_dim)
        self.mlp = nn.Sequential(nn.Linear(cond_dim, cond_dim), nn.SiLU(), nn.Linear(cond_dim, cond_dim))
        self.null_class = n_classes

    def forward(self, labels, drop_prob=0.0):
        if drop_prob > 0:
            drop = torch.rand(labels.shape) < drop_prob
            labels = torch.where(drop, torch.full_like(labels, self.null_class), labels)
        return self.mlp(self.embed(labels))


def sample_cfm_batch(x1, sigma_min):
    x0 = torch.randn_like(x1)
    t = torch.rand(x1.shape[0])
    x_t = (1 - (1 - sigma_min) * t[:, None]) * x0 + t[:, None] * x1
    u_t = x1 - (1 - sigma_min) * x0
    return x_t, t, u_t


def build_optimizer(unet, cfg):
    params = list(unet.parameters())
    return torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])


def train(unet, cond_encoder, loader, optimizer, scheduler, cfg):
    for epoch in range(cfg["epochs"]):
        for x1, labels in loader:
            x_t, t, u_t = sample_cfm_batch(x1, cfg["sigma_min"])
            cond = cond_encoder(labels, drop_prob=cfg["cond_drop"])
            v = unet(x_t, t, cond)
            loss = F.mse_loss(v, u_t)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()


def make_loader(n_classes=3, n=96):
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, n_classes, (n,), generator=g)
    centers = torch.tensor([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    x1 = centers[labels] + 0.2 * torch.randn(n, 2, generator=g)
    return DataLoader(TensorDataset(x1, labels), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    cfg = {"lr": 2e-3, "weight_decay": 0.0, "epochs": 2, "sigma_min": 1e-3, "cond_drop": 0.1, "warmup": 2}
    unet = VelocityMLP(cond_dim=16)
    cond_encoder = ClassConditionEncoder(n_classes=3, cond_dim=16)
    optimizer = build_optimizer(unet, cfg)
    loader = make_loader()
    scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=cfg["warmup"],
                              num_training_steps=cfg["epochs"] * len(loader))
    emb0 = cond_encoder.embed.weight.detach().clone()
    net0 = unet.net[0].weight.detach().clone()
    train(unet, cond_encoder, loader, optimizer, scheduler, cfg)
    return {"unet": unet, "cond_encoder": cond_encoder}, {
        "cond_encoder_changed": not torch.equal(emb0, cond_encoder.embed.weight),
        "unet_changed": not torch.equal(net0, unet.net[0].weight),
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
