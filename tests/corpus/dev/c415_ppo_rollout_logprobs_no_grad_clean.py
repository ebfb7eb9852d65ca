import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal


class GaussianActorCritic(nn.Module):
    def __init__(self, obs_dim=6, act_dim=2, hidden=64):
        super().__init__()
        self.actor = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, act_dim))
        self.log_std = nn.Parameter(torch.full((act_dim,), -0.5))
        self.critic = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def dist(self, obs):
        return Normal(self.actor(obs), self.log_std.exp())

    def value(self, obs):
        return self.critic(obs).squeeze(-1)


class RolloutBuffer:
    def __init__(self):
        self.obs, self.actions, self.log_probs, self.values, self.rewards = [], [], [], [], []

    @torch.no_grad()
    def collect(self, policy, obs_batch, target_fn):
        dist = policy.dist(obs_batch)
        actions = dist.sample()
        self.obs.append(obs_batch)
        self.actions.append(actions)
        self.log_probs.append(dist.log_prob(actions).sum(-1))
        self.values.append(policy.value(obs_batch))
        self.rewards.append(-((actions - target_fn(obs_batch)) ** 2).sum(-1))

    def tensors(self):
        obs, actions = torch.cat(self.obs), torch.cat(self.actions)
        old_log_probs, values, rewards = torch.cat(self.log_probs), torch.cat(self.values), torch.cat(self.rewards)
        advantages = rewards - values
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        return obs, actions, old_log_probs, rewards, advantages


def ppo_epochs(policy, optimizer, data, clip_eps=0.2, epochs=4, minibatch=32, max_norm=0.5):
    obs, actions, old_log_probs, returns, advantages = data
    stats = []
    for _ in range(epochs):
        for idx in torch.randperm(obs.size(0)).split(minibatch):
            dist = policy.dist(obs[idx])
            log_probs = dist.log_prob(actions[idx]).sum(-1)
            ratio = torch.exp(log_probs - old_log_probs[idx])
            surr = torch.min(ratio * advantages[idx], ratio.clamp(1 - clip_eps, 1 + clip_eps) * advantages[idx])
            value_loss = F.mse_loss(policy.value(obs[idx]), returns[idx])
            loss = -surr.mean() + 0.5 * value_loss - 0.01 * dist.entropy().sum(-1).mean()
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(policy.parameters(), max_norm)
            optimizer.step()
            stats.append({"approx_kl": (old_log_probs[idx] - log_probs).mean().item(),
                          "clip_frac": ((ratio - 1).abs() > clip_eps).float().mean().item()})
    return stats


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    policy = GaussianActorCritic()
    optimizer = torch.optim.Adam(policy.parameters(), lr=3e-4)
    target_fn = lambda o: torch.tanh(o[:, :2])
    actor_before = policy.actor[2].weight.detach().clone()
    for iteration in range(2):
        buffer = RolloutBuffer()
        for _ in range(4):
            buffer.collect(policy, torch.randn(16, 6, generator=g), target_fn)
        stats = ppo_epochs(policy, optimizer, buffer.tensors())
    facts = {"actor_changed": not torch.equal(actor_before, policy.actor[2].weight.detach()),
             "some_ratio_moved": any(s["approx_kl"] != 0.0 for s in stats)}
    return {"policy": policy}, facts

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
