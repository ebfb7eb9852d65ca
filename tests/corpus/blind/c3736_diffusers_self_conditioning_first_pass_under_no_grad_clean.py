import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.training_utils import EMAModel


class SelfCondDenoiser(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, dim=8, hidden=32, num_timesteps=100):
        super().__init__()
        self.t_embed = nn.Embedding(num_timesteps, hidden)
        self.inp = nn.Linear(2 * dim, hidden)
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x_t, timesteps, x_self_cond):
        return self.out(self.inp(torch.cat([x_t, x_self_cond], dim=-1)) + self.t_embed(timesteps))


def main():
    torch.manual_seed(0)
    random.seed(0)
    model = SelfCondDenoiser()
    ema = EMAModel(model.parameters(), decay=0.9)
    scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    w0 = model.inp.weight.detach().clone()
    for step in range(6):
        x0 = torch.randn(16, 8) * 0.5 + 1.0
        noise = torch.randn_like(x0)
        t = torch.randint(0, 100, (16,))
        x_t = scheduler.add_noise(x0, noise, t)
        x_self_cond = torch.zeros_like(x0)
        if random.random() < 0.5:
            with torch.no_grad():
                x_self_cond = model(x_t, t, x_self_cond)
        pred = model(x_t, t, x_self_cond)
        loss = F.mse_loss(pred, x0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ema.step(model.parameters())
    return {"model": model}, {
        "model_changed": not torch.equal(w0, model.inp.weight),
        "ema_steps": ema.optimization_step,
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
