import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed


class Actor(nn.Module):
    def __init__(self, obs_dim=5, act_dim=2, max_action=1.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.ReLU(), nn.Linear(32, act_dim), nn.Tanh())
        self.max_action = max_action

    def forward(self, obs):
        return self.max_action * self.net(obs)


class Critic(nn.Module):
    def __init__(self, obs_dim=5, act_dim=2):
        super().__init__()
        self.q = nn.Sequential(nn.Linear(obs_dim + act_dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, obs, act):
        return self.q(torch.cat([obs, act], dim=-1))


class ReplayBuffer:
    def __init__(self, n=256, obs_dim=5, act_dim=2, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.obs = torch.randn(n, obs_dim, generator=g)
        self.act = torch.rand(n, act_dim, generator=g) * 2 - 1
        self.rew = -(self.obs[:, :2] - self.act).pow(2).sum(-1, keepdim=True)
        self.next_obs = torch.randn(n, obs_dim, generator=g)
        self.g = g

    def sample(self, batch=32):
        i = torch.randint(0, len(self.obs), (batch,), generator=self.g)
        return self.obs[i], self.act[i], self.rew[i], self.next_obs[i]


def soft_update(target, source, tau):
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters()):
            t.mul_(1 - tau).add_(s, alpha=tau)


def ddpg_update(actor, critic, actor_t, critic_t, opt_a, opt_c, accelerator, batch, gamma=0.99, tau=0.01):
    obs, act, rew, next_obs = batch
    with torch.no_grad():
        target_q = rew + gamma * critic_t(next_obs, actor_t(next_obs))
    critic_loss = F.mse_loss(critic(obs, act), target_q)
    opt_c.zero_grad()
    accelerator.backward(critic_loss)
    opt_c.step()

    policy_action = actor(obs).detach()
    actor_loss = -critic(obs, policy_action).mean()
    opt_a.zero_grad()
    accelerator.backward(actor_loss)
    opt_a.step()
    soft_update(actor_t, actor, tau)
    soft_update(critic_t, critic, tau)


def main():
    set_seed(0)
    accelerator = Accelerator()
    actor, critic = Actor(), Critic()
    actor_t, critic_t = copy.deepcopy(actor), copy.deepcopy(critic)
    opt_a = torch.optim.Adam(actor.parameters(), lr=1e-3)
    opt_c = torch.optim.Adam(critic.parameters(), lr=1e-3)
    actor, critic, opt_a, opt_c = accelerator.prepare(actor, critic, opt_a, opt_c)
    buffer = ReplayBuffer()
    a0 = actor.net[0].weight.detach().clone()
    for _ in range(10):
        ddpg_update(actor, critic, actor_t, critic_t, opt_a, opt_c, accelerator, buffer.sample())
    return {"actor": actor, "critic": critic}, {"actor_changed": not torch.equal(a0, actor.net[0].weight)}

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
