import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical


class ToyChainEnv:
    """Tiny vectorised environment: reward 1 when the action matches the sign pattern of the state."""

    def __init__(self, n_envs=8, obs_dim=6, n_actions=3, seed=0):
        self.g = torch.Generator().manual_seed(seed)
        self.n_envs, self.obs_dim, self.n_actions = n_envs, obs_dim, n_actions

    def reset(self):
        self.state = torch.randn(self.n_envs, self.obs_dim, generator=self.g)
        return self.state

    def step(self, action):
        target = (self.state[:, :self.n_actions]).argmax(dim=1)
        reward = (action == target).float()
        self.state = torch.randn(self.n_envs, self.obs_dim, generator=self.g)
        return self.state, reward


class Actor(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, n_actions))

    def forward(self, obs):
        return Categorical(logits=self.net(obs))


class Critic(nn.Module):
    def __init__(self, obs_dim=6):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, obs):
        return self.net(obs).squeeze(-1)


def rollout(env, actor, critic, horizon=5):
    obs = env.reset()
    log_probs, values, rewards = [], [], []
    for _ in range(horizon):
        dist = actor(obs)
        action = dist.sample()
        log_probs.append(dist.log_prob(action))
        values.append(critic(obs).tolist())
        obs, reward = env.step(action)
        rewards.append(reward)
    return torch.stack(log_probs), torch.tensor(values), torch.stack(rewards)


def discounted_returns(rewards, gamma=0.9):
    out, running = [], torch.zeros_like(rewards[0])
    for r in reversed(rewards):
        running = r + gamma * running
        out.append(running)
    return torch.stack(out[::-1])


def update(actor, critic, optimizer, env):
    log_probs, values, rewards = rollout(env, actor, critic)
    returns = discounted_returns(rewards)
    advantage = returns - values
    policy_loss = -(log_probs * advantage).mean()
    value_loss = F.mse_loss(values, returns)
    optimizer.zero_grad()
    (policy_loss + 0.5 * value_loss).backward()
    optimizer.step()
    return value_loss.item()


def main():
    torch.manual_seed(0)
    env = ToyChainEnv()
    actor, critic = Actor(), Critic()
    optimizer = torch.optim.Adam(list(actor.parameters()) + list(critic.parameters()), lr=3e-3)
    critic_before = critic.net[0].weight.detach().clone()
    for _ in range(10):
        update(actor, critic, optimizer, env)
    facts = {"critic_changed": not torch.equal(critic_before, critic.net[0].weight.detach())}
    return {"actor": actor, "critic": critic}, facts

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
