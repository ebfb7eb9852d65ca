import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed


class WorldModel(nn.Module):
    def __init__(self, latent=8, act_dim=2):
        super().__init__()
        self.dynamics = nn.Sequential(nn.Linear(latent + act_dim, 32), nn.ELU(), nn.Linear(32, latent))
        self.reward = nn.Sequential(nn.Linear(latent, 16), nn.ELU(), nn.Linear(16, 1))

    def step(self, state, action):
        return state + self.dynamics(torch.cat([state, action], -1))


class Actor(nn.Module):
    def __init__(self, latent=8, act_dim=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, 32), nn.ELU(), nn.Linear(32, 2 * act_dim))

    def forward(self, state):
        mean, log_std = self.net(state).chunk(2, -1)
        return torch.tanh(mean + log_std.clamp(-5, 1).exp() * torch.randn_like(mean))


def set_requires_grad(module, flag):
    for p in module.parameters():
        p.requires_grad_(flag)


def make_replay(n=64, latent=8, act_dim=2):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(n, latent, generator=g)
    a = torch.rand(n, act_dim, generator=g) * 2 - 1
    s_next = s + 0.1 * torch.cat([a, a, a, a], -1)
    return s, a, s_next, -(s_next ** 2).sum(-1, keepdim=True)


def main():
    set_seed(0)
    accelerator = Accelerator()
    world_model, actor = WorldModel(), Actor()
    wm_opt = torch.optim.Adam(world_model.parameters(), lr=3e-3)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=3e-3)
    world_model, actor, wm_opt, actor_opt = accelerator.prepare(world_model, actor, wm_opt, actor_opt)
    s, a, s_next, r = make_replay()
    wm0 = world_model.dynamics[0].weight.detach().clone()
    actor0 = actor.net[0].weight.detach().clone()
    for it in range(4):
        wm_loss = F.mse_loss(world_model.step(s, a), s_next) + F.mse_loss(world_model.reward(s_next), r)
        wm_opt.zero_grad()
        accelerator.backward(wm_loss)
        wm_opt.step()

        set_requires_grad(world_model, False)
        state, ret = s.detach(), 0.0
        for t in range(4):
            state = world_model.step(state, actor(state))
            ret = ret + (0.95 ** t) * world_model.reward(state)
        actor_loss = -ret.mean()
        actor_opt.zero_grad()
        accelerator.backward(actor_loss)
        actor_opt.step()
        set_requires_grad(world_model, True)
    return {"actor": actor, "world_model": world_model}, {
        "world_model_changed": not torch.equal(wm0, world_model.dynamics[0].weight),
        "actor_changed": not torch.equal(actor0, actor.net[0].weight),
        "world_model_trainable_again": all(p.requires_grad for p in world_model.parameters()),
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
