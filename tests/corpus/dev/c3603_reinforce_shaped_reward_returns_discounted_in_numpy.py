import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class CategoricalPolicy(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3, hidden=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh())
        self.logits = nn.Linear(hidden, n_actions)

    def forward(self, obs):
        return torch.distributions.Categorical(logits=self.logits(self.body(obs)))


class LearnedRewardBonus(nn.Module):
    """Differentiable reward augmentation (a learned shaping term added to the env reward)."""

    def __init__(self, obs_dim=6):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, obs):
        return 0.1 * torch.tanh(self.net(obs)).squeeze(-1)


def discount_cumsum(x, discount):
    out = np.zeros_like(x)
    running = 0.0
    for t in reversed(range(len(x))):
        running = x[t] + discount * running
        out[t] = running
    return out


def process_path(path, bonus, discount):
    rewards = path["env_rewards"] + bonus(path["observations"])
    returns = discount_cumsum(rewards.detach().cpu().numpy(), discount)
    return torch.as_tensor(returns.copy(), dtype=torch.float32)


def collect_paths(loader):
    return [{"observations": obs, "actions": act, "env_rewards": rew} for obs, act, rew in loader]


def train(policy, bonus, paths, optimizer, discount=0.97, epochs=2):
    for _ in range(epochs):
        for path in paths:
            returns = process_path(path, bonus, discount)
            advantages = returns - returns.mean()
            logp = policy(path["observations"]).log_prob(path["actions"])
            loss = -(logp * advantages).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    obs = torch.randn(40, 6)
    acts = torch.randint(0, 3, (40,))
    rews = (obs[:, 0] > 0).float()
    paths = collect_paths(DataLoader(TensorDataset(obs, acts, rews), batch_size=10))
    policy, bonus = CategoricalPolicy(), LearnedRewardBonus()
    optimizer = torch.optim.Adam(list(policy.parameters()) + list(bonus.parameters()), lr=1e-2)
    bonus0 = bonus.net[0].weight.detach().clone()
    policy0 = policy.logits.weight.detach().clone()
    train(policy, bonus, paths, optimizer)
    return {"policy": policy, "bonus": bonus}, {
        "bonus_changed": not torch.equal(bonus0, bonus.net[0].weight),
        "policy_changed": not torch.equal(policy0, policy.logits.weight),
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
