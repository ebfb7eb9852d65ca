import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config


class BackboneDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, n_res=16, hidden=64):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(3 + 3 + 1, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.to_xyz = nn.Linear(hidden, 3)
        self.coord_scale = nn.Parameter(torch.ones(1))

    def forward(self, x_t, t, x0_prev):
        tt = (t.float() / 1000.0)[:, None, None].expand(-1, x_t.size(1), 1)
        h = self.trunk(torch.cat([x_t, x0_prev, tt], dim=-1))
        return self.coord_scale * self.to_xyz(h)


def predict_x0(model, x_t, t, x0_prev):
    """Shared by the sampler and the self-conditioning pass."""
    out = model(x_t, t, x0_prev)
    return out.detach()


@torch.no_grad()
def sample(model, scheduler, n=2, n_res=16, steps=(999, 750, 500, 250, 1)):
    x = torch.randn(n, n_res, 3)
    x0_prev = torch.zeros_like(x)
    for t in steps:
        tt = torch.full((n,), t)
        x0_prev = predict_x0(model, x, tt, x0_prev)
        x = scheduler.add_noise(x0_prev, torch.randn_like(x), torch.full((n,), max(t - 250, 0)))
    return x0_prev


def train_step(model, scheduler, optimizer, x0, self_cond_prob=0.5):
    noise = torch.randn_like(x0)
    t = torch.randint(1, 999, (x0.size(0),))
    x_t = scheduler.add_noise(x0, noise, t)
    x0_prev = torch.zeros_like(x0)
    if random.random() < self_cond_prob:
        x0_prev = predict_x0(model, x_t, t, x0_prev)
    x0_pred = predict_x0(model, x_t, t, x0_prev)
    loss = F.mse_loss(x0_pred, x0) + 1e-3 * model.coord_scale.pow(2).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def main():
    random.seed(0)
    torch.manual_seed(0)
    model = BackboneDenoiser()
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    coords = torch.cumsum(torch.randn(32, 16, 3) * 0.5, dim=1)
    w0 = model.trunk[0].weight.detach().clone()
    for i in range(0, 32, 8):
        train_step(model, scheduler, optimizer, coords[i:i + 8])
    sample(model, scheduler)
    return {"model": model}, {"trunk_changed": not torch.equal(w0, model.trunk[0].weight)}

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
