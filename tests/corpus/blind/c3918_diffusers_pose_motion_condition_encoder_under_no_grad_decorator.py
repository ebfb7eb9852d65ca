import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.training_utils import EMAModel


class PoseConditionedDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, n_joints=5, hidden=32, cond_dim=16):
        super().__init__()
        d = n_joints * 2
        self.cond_proj = nn.Sequential(nn.Linear(d, cond_dim), nn.SiLU(), nn.Linear(cond_dim, cond_dim))
        self.time_emb = nn.Linear(1, cond_dim)
        self.net = nn.Sequential(nn.Linear(d + cond_dim, hidden), nn.SiLU(), nn.Linear(hidden, d))

    @torch.no_grad()
    def encode_condition(self, past_pose, t):
        return self.cond_proj(past_pose) + self.time_emb(t.float()[:, None] / 1000.0)

    def forward(self, noisy_pose, t, past_pose):
        cond = self.encode_condition(past_pose, t)
        return self.net(torch.cat([noisy_pose, cond], -1))


def motion_batch(b=16, n_joints=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    past = torch.randn(b, n_joints * 2, generator=g)
    future = past + 0.1 * torch.randn(b, n_joints * 2, generator=g)
    return past, future


def main():
    torch.manual_seed(0)
    model = PoseConditionedDenoiser()
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    ema = EMAModel(model.parameters(), decay=0.95)
    cond0 = model.cond_proj[0].weight.detach().clone()
    net0 = model.net[0].weight.detach().clone()
    for step in range(8):
        past, future = motion_batch(seed=step)
        noise = torch.randn_like(future)
        t = torch.randint(0, 1000, (future.shape[0],))
        pred = model(scheduler.add_noise(future, noise, t), t, past)
        loss = F.mse_loss(pred, noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ema.step(model.parameters())
    return {"model": model}, {
        "condition_encoder_changed": not torch.equal(cond0, model.cond_proj[0].weight),
        "denoiser_changed": not torch.equal(net0, model.net[0].weight),
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
