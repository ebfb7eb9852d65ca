import torch
import torch.nn as nn
import torch.nn.functional as F


class ActorCritic(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3, hidden=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.policy = nn.Linear(hidden, n_actions)
        self.value = nn.Linear(hidden, 1)

    def forward(self, obs):
        h = self.body(obs)
        return self.policy(h), self.value(h).squeeze(-1)


class ToyEnv:
    """Batched contextual bandit with a short horizon: the best action is encoded in the observation."""

    def __init__(self, n_envs=8, obs_dim=6, seed=0):
        self.g = torch.Generator().manual_seed(seed)
        self.n, self.d = n_envs, obs_dim

    def reset(self):
        self.obs = torch.randn(self.n, self.d, generator=self.g)
        return self.obs

    def step(self, actions):
        reward = (actions == self.obs[:, :3].argmax(dim=1)).float()
        return self.reset(), reward


def discounted_returns(rewards, bootstrap, gamma=0.99):
    out, running = [], bootstrap
    for r in reversed(rewards):
        running = r + gamma * running
        out.append(running)
    return torch.stack(out[::-1])


def a2c_update(model, optimizer, env, obs, n_steps=5, value_coef=0.5, entropy_coef=0.01):
    log_probs, values, rewards, entropies = [], [], [], []
    for _ in range(n_steps):
        logits, value = model(obs)
        dist = torch.distributions.Categorical(logits=logits)
        action = dist.sample()
        obs, reward = env.step(action)
        log_probs.append(dist.log_prob(action))
        values.append(value)
        entropies.append(dist.entropy())
        rewards.append(reward)
    with torch.no_grad():
        _, bootstrap = model(obs)
    returns = discounted_returns(rewards, bootstrap)
    values = torch.stack(values)
    advantage = returns - values.detach()
    policy_loss = -(torch.stack(log_probs) * advantage).mean()
    value_loss = F.mse_loss(values.data, returns)
    loss = policy_loss + value_coef * value_loss - entropy_coef * torch.stack(entropies).mean()
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    optimizer.step()
    return obs


def main():
    torch.manual_seed(0)
    env = ToyEnv()
    model = nn.DataParallel(ActorCritic())
    optimizer = torch.optim.RMSprop(model.parameters(), lr=7e-4, alpha=0.99, eps=1e-5)
    v0 = model.module.value.weight.detach().clone()
    obs = env.reset()
    for _ in range(20):
        obs = a2c_update(model, optimizer, env, obs)
    return {"model": model.module}, {"critic_changed": not torch.equal(v0, model.module.value.weight)}

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
