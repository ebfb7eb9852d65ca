import copy

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F


class AgentActor(nn.Module):
    def __init__(self, obs_dim=4, act_dim=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 16), nn.ReLU(), nn.Linear(16, act_dim), nn.Tanh())

    def forward(self, obs):
        return self.net(obs)


class CentralCritic(nn.Module):
    def __init__(self, n_agents=2, obs_dim=4, act_dim=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_agents * (obs_dim + act_dim), 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, all_obs, all_act):
        return self.net(torch.cat([all_obs, all_act], -1))


@torch.no_grad()
def soft_update(target, source, tau=0.05):
    for tp, sp in zip(target.parameters(), source.parameters()):
        tp.mul_(1 - tau).add_(tau * sp)


def main():
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    actors = [AgentActor(), AgentActor()]
    critic = CentralCritic()
    target_actors = [copy.deepcopy(a) for a in actors]
    target_critic = CentralCritic()
    target_critic.load_state_dict(critic.state_dict())
    critic_opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    actor_opts = [torch.optim.Adam(a.parameters(), lr=1e-3) for a in actors]
    critic_f, critic_opt = fabric.setup(critic, critic_opt)
    c0, a0 = critic.net[0].weight.detach().clone(), actors[0].net[0].weight.detach().clone()
    g = torch.Generator().manual_seed(0)
    for it in range(6):
        obs = [torch.randn(16, 4, generator=g) for _ in actors]
        acts = [torch.rand(16, 2, generator=g) * 2 - 1 for _ in actors]
        next_obs = [torch.randn(16, 4, generator=g) for _ in actors]
        reward = torch.randn(16, 1, generator=g)
        next_actions = torch.cat([a(o) for a, o in zip(target_actors, next_obs)], -1).detach()
        with torch.no_grad():
            y = reward + 0.95 * target_critic(torch.cat(next_obs, -1), next_actions)
        critic_loss = F.mse_loss(critic_f(torch.cat(obs, -1), torch.cat(acts, -1)), y)
        critic_opt.zero_grad()
        fabric.backward(critic_loss)
        critic_opt.step()
        for i, (actor, opt) in enumerate(zip(actors, actor_opts)):
            joint = [actor(obs[j]) if j == i else acts[j] for j in range(len(actors))]
            actor_loss = -critic_f(torch.cat(obs, -1), torch.cat(joint, -1)).mean()
            opt.zero_grad()
            fabric.backward(actor_loss)
            opt.step()
        soft_update(target_critic, critic)
        for ta, a in zip(target_actors, actors):
            soft_update(ta, a)
    facts = {"critic_changed": not torch.equal(c0, critic.net[0].weight), "actor0_changed": not torch.equal(a0, actors[0].net[0].weight),
             "target_critic_differs": not torch.equal(target_critic.net[0].weight, critic.net[0].weight)}
    return {"critic": critic, "actor0": actors[0], "actor1": actors[1]}, facts

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
