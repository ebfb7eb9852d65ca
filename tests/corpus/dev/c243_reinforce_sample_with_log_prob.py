import torch
import torch.nn as nn
from torch.distributions import Categorical


class GridBandit:
    """Contextual bandit: the best of 4 actions depends on the sign pattern of the context."""

    def __init__(self, seed=0):
        self.g = torch.Generator().manual_seed(seed)

    def reset(self, batch):
        self.ctx = torch.randn(batch, 6, generator=self.g)
        return self.ctx

    def step(self, actions):
        best = (self.ctx[:, 0] > 0).long() * 2 + (self.ctx[:, 1] > 0).long()
        return (actions == best).float()


class PolicyNet(nn.Module):
    def __init__(self, obs_dim=6, n_actions=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, n_actions))
        self.value = nn.Linear(obs_dim, 1)

    def forward(self, obs):
        return Categorical(logits=self.net(obs)), self.value(obs).squeeze(-1)


def reinforce_step(policy, env, optimizer, batch=32, entropy_coef=0.01):
    obs = env.reset(batch)
    dist, baseline = policy(obs)
    actions = dist.sample()
    rewards = env.step(actions)
    advantage = rewards - baseline.detach()
    policy_loss = -(dist.log_prob(actions) * advantage).mean()
    value_loss = (baseline - rewards).pow(2).mean()
    loss = policy_loss + 0.5 * value_loss - entropy_coef * dist.entropy().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return rewards.mean().item()


def main():
    torch.manual_seed(0)
    env, policy = GridBandit(), PolicyNet()
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
    w0 = policy.net[0].weight.detach().clone()
    returns = [reinforce_step(policy, env, optimizer) for _ in range(6)]
    return {"policy": policy}, {"policy_changed": not torch.equal(w0, policy.net[0].weight.detach()),
                                "episodes": len(returns)}

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
