import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class ConditionalVelocityNet(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, data_dim=4, cond_dim=8, hidden=64):
        super().__init__()
        self.time_proj = nn.Sequential(nn.Linear(1, hidden), nn.SiLU())
        self.cond_proj = nn.Linear(cond_dim, hidden)
        self.net = nn.Sequential(nn.Linear(data_dim + hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, data_dim))

    def forward(self, x_t, t, cond):
        return self.net(torch.cat([x_t, self.time_proj(t[:, None]) + self.cond_proj(cond)], -1))


class AttributeEncoder(nn.Module):
    """Encodes continuous conditioning attributes (e.g. measured properties) into a vector."""

    def __init__(self, n_attr, cond_dim):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_attr, 32), nn.SiLU(), nn.Linear(32, cond_dim))

    def forward(self, attrs):
        return self.net(attrs)


def encode_condition(encoder, attrs, drop_prob):
    emb = encoder(attrs)
    if drop_prob > 0:
        keep = (torch.rand(attrs.shape[0], 1) > drop_prob).float()
        emb = emb * keep
    return torch.tensor(emb, requires_grad=True)


def cfm_sample(x1, sigma_min=1e-3):
    x0 = torch.randn_like(x1)
    t = torch.rand(x1.shape[0])
    x_t = (1 - (1 - sigma_min) * t[:, None]) * x0 + t[:, None] * x1
    return x_t, t, x1 - (1 - sigma_min) * x0


def train(unet, encoder, loader, optimizer, lr_scheduler, cfg):
    for _ in range(cfg["epochs"]):
        for x1, attrs in loader:
            x_t, t, u_t = cfm_sample(x1)
            cond = encode_condition(encoder, attrs, cfg["cond_drop"])
            loss = F.mse_loss(unet(x_t, t, cond), u_t)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_scheduler.step()


def main():
    torch.manual_seed(0)
    cfg = {"lr": 2e-3, "epochs": 2, "cond_drop": 0.1}
    unet = ConditionalVelocityNet()
    encoder = AttributeEncoder(n_attr=3, cond_dim=8)
    params = [{"params": unet.parameters(), "lr": cfg["lr"]}, {"params": encoder.parameters(), "lr": cfg["lr"] * 0.5}]
    optimizer = torch.optim.AdamW(params, weight_decay=0.0)
    g = torch.Generator().manual_seed(0)
    attrs = torch.rand(96, 3, generator=g)
    x1 = torch.cat([attrs * 2 - 1, attrs.sum(1, keepdim=True)], 1) + 0.05 * torch.randn(96, 4, generator=g)
    loader = DataLoader(TensorDataset(x1, attrs), batch_size=16, shuffle=True, generator=g)
    lr_scheduler = get_scheduler("constant", optimizer)
    enc0 = encoder.net[0].weight.detach().clone()
    unet0 = unet.net[0].weight.detach().clone()
    train(unet, encoder, loader, optimizer, lr_scheduler, cfg)
    return {"unet": unet, "encoder": encoder}, {
        "encoder_changed": not torch.equal(enc0, encoder.net[0].weight),
        "unet_changed": not torch.equal(unet0, unet.net[0].weight),
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
