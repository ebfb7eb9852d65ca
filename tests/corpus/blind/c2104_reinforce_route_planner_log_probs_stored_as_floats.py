import torch
import torch.nn as nn
from torch.distributions import Categorical


class GridWorld:
    """A 1-D corridor: the agent starts at 0 and is rewarded for reaching the goal cell."""

    def __init__(self, size=6, goal=5, horizon=8):
        self.size, self.goal, self.horizon = size, goal, horizon

    def reset(self):
        self.pos, self.t = 0, 0
        return self._obs()

    def _obs(self):
        obs = torch.zeros(self.size)
        obs[self.pos] = 1.0
        return obs

    def step(self, action):
        self.pos = max(0, min(self.size - 1, self.pos + (1 if action == 1 else -1)))
        self.t += 1
        done = self.pos == self.goal or self.t >= self.horizon
        return self._obs(), (1.0 if self.pos == self.goal else -0.05), done


class Policy(nn.Module):
    def __init__(self, obs_dim=6, n_actions=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 16), nn.Tanh(), nn.Linear(16, n_actions))

    def forward(self, obs):
        return Categorical(logits=self.net(obs))


def run_episode(env, policy):
    obs, done = env.reset(), False
    log_probs, rewards = [], []
    while not done:
        dist = policy(obs)
        action = dist.sample()
        log_probs.append(dist.log_prob(action).item())
        obs, r, done = env.step(action.item())
        rewards.append(r)
    return log_probs, rewards


def discounted(rewards, gamma=0.95):
    out, g = [], 0.0
    for r in reversed(rewards):
        g = r + gamma * g
        out.insert(0, g)
    return torch.tensor(out)


def main():
    torch.manual_seed(0)
    env, policy = GridWorld(), Policy()
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
    w0 = policy.net[0].weight.detach().clone()
    for episode in range(5):
        log_probs, rewards = run_episode(env, policy)
        returns = discounted(rewards)
        returns = (returns - returns.mean()) / (returns.std() + 1e-6)
        loss = -(torch.tensor(log_probs, requires_grad=True) * returns).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return ({"policy": policy}, {"policy_changed": not torch.equal(w0, policy.net[0].weight)})

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
