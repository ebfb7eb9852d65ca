import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical
from torch.utils.data import DataLoader, TensorDataset


class Policy(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, n_actions))

    def forward(self, obs):
        return Categorical(logits=self.net(obs))


class ValueNet(nn.Module):
    def __init__(self, obs_dim=6):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, obs):
        return self.net(obs).squeeze(-1)


def discounted_returns(rewards, dones, gamma=0.99):
    returns, running = [], 0.0
    for r, d in zip(reversed(rewards.tolist()), reversed(dones.tolist())):
        running = r + gamma * running * (1.0 - d)
        returns.append(running)
    return torch.tensor(returns[::-1])


def train(policy, value_net, loader, optimizer, scheduler, clip=0.2, epochs=2, vf_coef=0.5, ent_coef=0.01):
    for _ in range(epochs):
        for obs, actions, old_log_probs, returns in loader:
            state_values = value_net(obs).detach()
            advantages = returns - state_values
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
            dist = policy(obs)
            ratio = torch.exp(dist.log_prob(actions) - old_log_probs)
            surr = torch.min(ratio * advantages, ratio.clamp(1 - clip, 1 + clip) * advantages)
            value_loss = F.mse_loss(state_values, returns)
            loss = -surr.mean() + vf_coef * value_loss - ent_coef * dist.entropy().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    policy, value_net = Policy(), ValueNet()
    obs = torch.randn(32, 6)
    with torch.no_grad():
        dist = policy(obs)
        actions = dist.sample()
        old_log_probs = dist.log_prob(actions)
    rewards = torch.randn(32)
    dones = (torch.arange(32) % 8 == 7).float()
    returns = discounted_returns(rewards, dones)
    loader = DataLoader(TensorDataset(obs, actions, old_log_probs, returns), batch_size=16, shuffle=True)
    optimizer = torch.optim.Adam(list(policy.parameters()) + list(value_net.parameters()), lr=3e-4)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=0.0, total_iters=10)
    train(policy, value_net, loader, optimizer, scheduler)
    return {"policy": policy, "value_net": value_net}

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
