import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical


class RecurrentActorCritic(nn.Module):
    def __init__(self, obs_dim=6, hidden=32, n_actions=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh())
        self.gru = nn.GRUCell(hidden, hidden)
        self.policy = nn.Linear(hidden, n_actions)
        self.value = nn.Linear(hidden, 1)
        self.hidden = hidden

    def initial_state(self, n_envs):
        return torch.zeros(n_envs, self.hidden)

    def forward(self, obs, h):
        h = self.gru(self.encoder(obs), h)
        return self.policy(h), self.value(h).squeeze(-1), h


class ToyVecEnv:
    """n parallel copies of a partially observed bandit: the rewarded action is shown only every 3rd step."""

    def __init__(self, n_envs=4, obs_dim=6, seed=0):
        self.g = torch.Generator().manual_seed(seed)
        self.n_envs, self.obs_dim, self.t = n_envs, obs_dim, 0
        self.goal = torch.randint(0, 3, (n_envs,), generator=self.g)

    def observe(self):
        obs = 0.1 * torch.randn(self.n_envs, self.obs_dim, generator=self.g)
        if self.t % 3 == 0:
            obs[torch.arange(self.n_envs), self.goal] += 1.0
        return obs

    def step(self, action):
        self.t += 1
        return (action == self.goal).float()


def rollout(policy, env, h, n_steps=5):
    log_probs, values, rewards, entropies = [], [], [], []
    for _ in range(n_steps):
        logits, value, h = policy(env.observe(), h)
        dist = Categorical(logits=logits)
        action = dist.sample()
        log_probs.append(dist.log_prob(action))
        entropies.append(dist.entropy())
        values.append(value)
        rewards.append(env.step(action))
    return (torch.stack(log_probs), torch.stack(values), torch.stack(rewards), torch.stack(entropies)), h


def a2c_loss(trajectory, gamma=0.9, value_coef=0.5, entropy_coef=0.01):
    log_probs, values, rewards, entropies = trajectory
    returns, running = [], torch.zeros_like(rewards[0])
    for r in reversed(rewards):
        running = r + gamma * running
        returns.append(running)
    returns = torch.stack(returns[::-1])
    advantage = returns - values
    return (-(log_probs * advantage.detach()).mean() + value_coef * advantage.pow(2).mean()
            - entropy_coef * entropies.mean())


def train(policy, env, optimizer, n_updates=4):
    h = policy.initial_state(env.n_envs)
    for _ in range(n_updates):
        trajectory, h = rollout(policy, env, h)
        loss = a2c_loss(trajectory)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 0.5)
        optimizer.step()


def main():
    torch.manual_seed(0)
    policy = RecurrentActorCritic()
    optimizer = torch.optim.RMSprop(policy.parameters(), lr=7e-4)
    train(policy, ToyVecEnv(), optimizer)
    return {"policy": policy}

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
