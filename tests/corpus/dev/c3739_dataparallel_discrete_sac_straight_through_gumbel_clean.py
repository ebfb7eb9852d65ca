import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class DiscreteActor(nn.Module):
    def __init__(self, obs_dim=6, n_actions=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.ReLU(), nn.Linear(32, n_actions))

    def forward(self, obs, tau=1.0):
        logits = self.net(obs)
        gumbel = -torch.log(-torch.log(torch.rand_like(logits).clamp(1e-6, 1 - 1e-6)))
        rout = F.softmax((logits + gumbel) / tau, dim=-1)
        out = F.one_hot(rout.argmax(dim=-1), logits.shape[-1]).float()
        action = (out - rout).detach() + rout
        return action, F.log_softmax(logits, dim=-1)


class Critic(nn.Module):
    def __init__(self, obs_dim=6, n_actions=4):
        super().__init__()
        self.q = nn.Sequential(nn.Linear(obs_dim + n_actions, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, obs, action):
        return self.q(torch.cat([obs, action], dim=-1)).squeeze(-1)


def soft_update(target, source, tau=0.05):
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters()):
            t.mul_(1 - tau).add_(tau * s)


def main():
    torch.manual_seed(0)
    actor = nn.DataParallel(DiscreteActor())
    critic = nn.DataParallel(Critic())
    critic_target = copy.deepcopy(critic).requires_grad_(False)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=3e-3)
    critic_opt = torch.optim.Adam(critic.parameters(), lr=3e-3)
    a0 = actor.module.net[0].weight.detach().clone()
    c0 = critic.module.q[0].weight.detach().clone()
    alpha, gamma = 0.1, 0.95
    for _ in range(6):
        obs, next_obs = torch.randn(16, 6), torch.randn(16, 6)
        taken = F.one_hot(torch.randint(0, 4, (16,)), 4).float()
        reward = taken[:, 1] - 0.1 * obs[:, 0]
        with torch.no_grad():
            next_a, next_logp = actor(next_obs)
            target_q = reward + gamma * (critic_target(next_obs, next_a) - alpha * (next_a * next_logp).sum(-1))
        critic_loss = F.mse_loss(critic(obs, taken), target_q)
        critic_opt.zero_grad()
        critic_loss.backward()
        critic_opt.step()
        action, logp = actor(obs)
        actor_loss = (alpha * (action * logp).sum(-1) - critic(obs, action)).mean()
        actor_opt.zero_grad()
        actor_loss.backward()
        actor_opt.step()
        soft_update(critic_target, critic)
    return {"actor": actor.module}, {
        "actor_changed": not torch.equal(a0, actor.module.net[0].weight),
        "critic_changed": not torch.equal(c0, critic.module.q[0].weight),
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
