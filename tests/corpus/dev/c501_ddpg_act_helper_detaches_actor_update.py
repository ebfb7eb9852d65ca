import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Actor(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden=64, max_action=1.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, act_dim))
        self.max_action = max_action

    def forward(self, obs):
        return self.max_action * torch.tanh(self.net(obs))


class Critic(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden=64):
        super().__init__()
        self.q = nn.Sequential(nn.Linear(obs_dim + act_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, obs, action):
        return self.q(torch.cat([obs, action], dim=-1))


class DDPGAgent:
    def __init__(self, obs_dim, act_dim, gamma=0.99, tau=0.005, max_action=1.0):
        self.actor = Actor(obs_dim, act_dim, max_action=max_action)
        self.critic = Critic(obs_dim, act_dim)
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=1e-3)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=1e-3)
        self.gamma, self.tau, self.max_action = gamma, tau, max_action

    def act(self, obs, noise_std=0.0):
        action = self.actor(obs)
        if noise_std > 0:
            action = action + noise_std * torch.randn_like(action)
        return action.clamp(-self.max_action, self.max_action).detach()

    def update_critic(self, obs, action, reward, next_obs, done):
        with torch.no_grad():
            next_q = self.critic_target(next_obs, self.actor_target(next_obs))
            target = reward + self.gamma * (1.0 - done) * next_q
        critic_loss = F.mse_loss(self.critic(obs, action), target)
        self.critic_opt.zero_grad()
        critic_loss.backward()
        self.critic_opt.step()
        return critic_loss.item()

    def update_actor(self, obs):
        actor_loss = -self.critic(obs, self.act(obs)).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()
        return actor_loss.item()

    @torch.no_grad()
    def soft_update(self):
        for net, target in ((self.actor, self.actor_target), (self.critic, self.critic_target)):
            for p, tp in zip(net.parameters(), target.parameters()):
                tp.mul_(1.0 - self.tau).add_(self.tau * p)


def make_replay_loader(obs_dim=8, act_dim=2, n=256):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, obs_dim, generator=g)
    action = torch.rand(n, act_dim, generator=g) * 2 - 1
    reward = -(obs[:, :1] - action[:, :1]).pow(2)
    next_obs = obs + 0.1 * torch.randn(n, obs_dim, generator=g)
    done = (torch.rand(n, 1, generator=g) < 0.05).float()
    return DataLoader(TensorDataset(obs, action, reward, next_obs, done), batch_size=64, shuffle=True, generator=g)


def train(agent, loader, epochs=2):
    for _ in range(epochs):
        for obs, action, reward, next_obs, done in loader:
            agent.update_critic(obs, action, reward, next_obs, done)
            agent.update_actor(obs)
            agent.soft_update()


def main():
    torch.manual_seed(0)
    agent = DDPGAgent(obs_dim=8, act_dim=2)
    before = [p.detach().clone() for p in agent.actor.parameters()]
    train(agent, make_replay_loader())
    actor_changed = any(not torch.equal(b, p) for b, p in zip(before, agent.actor.parameters()))
    return {"actor": agent.actor, "critic": agent.critic}, {"actor_changed": actor_changed}

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
