import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class Actor(nn.Module):
    def __init__(self, obs=4, act=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs, 32), nn.ReLU(), nn.Linear(32, act), nn.Tanh())

    def forward(self, s):
        return self.net(s)


class Critic(nn.Module):
    def __init__(self, obs=4, act=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs + act, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, s, a):
        return self.net(torch.cat([s, a], -1)).squeeze(-1)


def soft_update(target, source, tau):
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters()):
            t.mul_(1 - tau).add_(s, alpha=tau)


class DDPGAgent:
    def __init__(self, fabric, gamma=0.95, tau=0.05):
        self.fabric, self.gamma, self.tau = fabric, gamma, tau
        actor, critic = Actor(), Critic()
        self.actor_target, self.critic_target = copy.deepcopy(actor), copy.deepcopy(critic)
        self.actor, self.actor_opt = fabric.setup(actor, torch.optim.Adam(actor.parameters(), lr=1e-3))
        self.critic, self.critic_opt = fabric.setup(critic, torch.optim.Adam(critic.parameters(), lr=1e-3))

    def update(self, s, a, r, s2, done):
        with torch.no_grad():
            next_q = self.critic_target(s2, self.actor_target(s2))
            target_q = r + self.gamma * (1 - done) * next_q
        critic_loss = F.mse_loss(self.critic(s, a), target_q)
        self.critic_opt.zero_grad()
        self.fabric.backward(critic_loss)
        self.critic_opt.step()

        actor_loss = -self.critic(s, self.actor(s)).mean()
        self.actor_opt.zero_grad()
        self.fabric.backward(actor_loss)
        self.actor_opt.step()
        soft_update(self.actor_target, self.actor, self.tau)
        soft_update(self.critic_target, self.critic, self.tau)
        return critic_loss.item(), actor_loss.item()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    agent = DDPGAgent(fabric)
    actor_before = agent.actor.module.net[0].weight.detach().clone()
    for _ in range(4):
        s, s2 = torch.randn(16, 4), torch.randn(16, 4)
        a = torch.rand(16, 2) * 2 - 1
        r, done = -s.pow(2).sum(-1), torch.zeros(16)
        agent.update(s, a, r, s2, done)
    facts = {"actor_changed": not torch.equal(actor_before, agent.actor.module.net[0].weight)}
    return {"actor": agent.actor.module, "critic": agent.critic.module}, facts

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
