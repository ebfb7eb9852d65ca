import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical


class ActorCritic(nn.Module):
    """Separate policy / value towers over the same observation (no shared trunk)."""

    def __init__(self, obs_dim=6, n_actions=3, hidden=16):
        super().__init__()
        self.pi_encoder = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.pi_head = nn.Linear(hidden, n_actions)
        self.vf_encoder = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.vf_head = nn.Linear(hidden, 1)

    def forward(self, obs):
        return Categorical(logits=self.pi_head(self.pi_encoder(obs))), self.vf_head(self.vf_encoder(obs)).squeeze(-1)

    def actor_parameters(self):
        return list(self.pi_encoder.parameters()) + list(self.pi_head.parameters())

    def critic_parameters(self):
        return list(self.vf_head.parameters())


class ToyBanditEnv:
    """Contextual bandit: reward depends on the observation and the chosen action."""

    def __init__(self, obs_dim=6, n_actions=3, seed=0):
        self.g = torch.Generator().manual_seed(seed)
        self.w = torch.randn(obs_dim, n_actions, generator=self.g)

    def reset(self, n):
        return torch.randn(n, 6, generator=self.g)

    def step(self, obs, actions):
        return (obs @ self.w).gather(1, actions[:, None]).squeeze(1) + 0.1 * torch.randn(len(actions), generator=self.g)


def build_optimizers(agent, actor_lr=3e-3, critic_lr=1e-2):
    actor_opt = torch.optim.Adam(agent.actor_parameters(), lr=actor_lr)
    critic_opt = torch.optim.Adam(agent.critic_parameters(), lr=critic_lr)
    return actor_opt, critic_opt


def train(agent, env, actor_opt, critic_opt, updates=20, batch=32, entropy_coef=0.01):
    for update in range(updates):
        obs = env.reset(batch)
        dist, values = agent(obs)
        actions = dist.sample()
        rewards = env.step(obs, actions)
        advantages = rewards - values.detach()
        actor_loss = -(dist.log_prob(actions) * advantages).mean() - entropy_coef * dist.entropy().mean()
        critic_loss = F.mse_loss(values, rewards)
        actor_opt.zero_grad()
        critic_opt.zero_grad()
        (actor_loss + 0.5 * critic_loss).backward()
        nn.utils.clip_grad_norm_(agent.parameters(), 1.0)
        actor_opt.step()
        critic_opt.step()
    return critic_loss.item()


def main():
    torch.manual_seed(0)
    agent = ActorCritic()
    env = ToyBanditEnv()
    actor_opt, critic_opt = build_optimizers(agent)
    vf_before = agent.vf_encoder[0].weight.detach().clone()
    train(agent, env, actor_opt, critic_opt)
    facts = {"value_encoder_changed": not torch.equal(vf_before, agent.vf_encoder[0].weight)}
    return {"agent": agent}, facts

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
