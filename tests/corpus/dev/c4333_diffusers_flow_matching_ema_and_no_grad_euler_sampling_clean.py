import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class VelocityField(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, data_dim=2, hidden=64, n_classes=3):
        super().__init__()
        self.label_emb = nn.Embedding(n_classes, hidden)
        self.time_mlp = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.net = nn.Sequential(nn.Linear(data_dim + hidden, hidden), nn.SiLU(), nn.Linear(hidden, data_dim))

    def forward(self, x_t, t, labels):
        h = self.time_mlp(t[:, None]) + self.label_emb(labels)
        return self.net(torch.cat([x_t, h], -1))


def ot_cfm_targets(x1, sigma_min):
    x0 = torch.randn_like(x1)
    t = torch.rand(x1.shape[0])
    x_t = (1 - (1 - sigma_min) * t[:, None]) * x0 + t[:, None] * x1
    return x_t, t, x1 - (1 - sigma_min) * x0


@torch.no_grad()
def euler_sample(model, labels, steps=8):
    x = torch.randn(labels.shape[0], 2)
    for k in range(steps):
        t = torch.full((labels.shape[0],), k / steps)
        x = x + model(x, t, labels) / steps
    return x


def train(model, ema, loader, optimizer, lr_scheduler, cfg):
    for epoch in range(cfg["epochs"]):
        model.train()
        for x1, labels in loader:
            x_t, t, u_t = ot_cfm_targets(x1, cfg["sigma_min"])
            loss = F.mse_loss(model(x_t, t, labels), u_t)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            lr_scheduler.step()
            ema.step(model.parameters())
        model.eval()
        samples = euler_sample(model, torch.arange(3))
        print(f"epoch {epoch} loss {loss.item():.3f} sample norm {samples.norm().item():.2f}")


def main():
    torch.manual_seed(0)
    cfg = {"epochs": 2, "lr": 2e-3, "sigma_min": 1e-3, "ema_decay": 0.99}
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (96,), generator=g)
    centers = torch.tensor([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    x1 = centers[labels] + 0.2 * torch.randn(96, 2, generator=g)
    loader = DataLoader(TensorDataset(x1, labels), batch_size=16, shuffle=True, generator=g)
    model = VelocityField()
    ema = EMAModel(model.parameters(), decay=cfg["ema_decay"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg["lr"])
    lr_scheduler = get_scheduler("linear", optimizer, num_warmup_steps=2, num_training_steps=cfg["epochs"] * len(loader))
    net0 = model.net[0].weight.detach().clone()
    train(model, ema, loader, optimizer, lr_scheduler, cfg)
    ema_model = copy.deepcopy(model)
    ema.copy_to(ema_model.parameters())
    return {"model": model}, {
        "velocity_net_changed": not torch.equal(net0, model.net[0].weight),
        "ema_moved": not torch.equal(net0, ema_model.net[0].weight),
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
