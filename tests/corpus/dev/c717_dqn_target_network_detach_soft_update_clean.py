import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class QNetwork(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_actions))

    def forward(self, obs):
        return self.net(obs)


class ReplayBuffer:
    def __init__(self, obs_dim, capacity=512, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.obs = torch.randn(capacity, obs_dim, generator=g)
        self.next_obs = self.obs + 0.1 * torch.randn(capacity, obs_dim, generator=g)
        self.actions = torch.randint(0, 3, (capacity,), generator=g)
        self.rewards = self.obs[:, 0] - 0.5 * self.actions.float()
        self.dones = (torch.rand(capacity, generator=g) < 0.05).float()
        self.g = g

    def sample(self, batch_size):
        idx = torch.randint(0, self.obs.size(0), (batch_size,), generator=self.g)
        return self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx], self.dones[idx]


class DQNAgent:
    def __init__(self, obs_dim=6, n_actions=3, gamma=0.99, tau=0.05, lr=1e-3):
        self.online = QNetwork(obs_dim, n_actions)
        self.target = copy.deepcopy(self.online)
        self.target.requires_grad_(False)
        self.gamma, self.tau = gamma, tau
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=lr)

    def td_target(self, rewards, next_obs, dones):
        with torch.no_grad():
            best = self.online(next_obs).argmax(dim=1, keepdim=True)
            next_q = self.target(next_obs).gather(1, best).squeeze(1)
        return rewards + self.gamma * (1.0 - dones) * next_q

    def soft_update(self):
        for t_param, param in zip(self.target.parameters(), self.online.parameters()):
            t_param.data.mul_(1.0 - self.tau).add_(self.tau * param.data)

    def learn(self, batch):
        obs, actions, rewards, next_obs, dones = batch
        q = self.online(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        target = self.td_target(rewards, next_obs, dones)
        loss = F.smooth_l1_loss(q, target.detach())
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.online.parameters(), 10.0)
        self.optimizer.step()
        self.soft_update()
        return loss.item()


def main():
    torch.manual_seed(0)
    agent = DQNAgent()
    buffer = ReplayBuffer(obs_dim=6)
    target_before = agent.target.net[0].weight.detach().clone()
    online_before = agent.online.net[0].weight.detach().clone()
    losses = [agent.learn(buffer.sample(64)) for _ in range(20)]
    return {"online": agent.online, "target": agent.target}, {
        "online_changed": not torch.equal(online_before, agent.online.net[0].weight),
        "target_changed": not torch.equal(target_before, agent.target.net[0].weight),
        "target_requires_grad": any(p.requires_grad for p in agent.target.parameters()),
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
