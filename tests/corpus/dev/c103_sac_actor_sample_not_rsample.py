import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal


class GaussianActor(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden=32):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, act_dim)
        self.log_std = nn.Linear(hidden, act_dim)

    def forward(self, obs):
        h = self.trunk(obs)
        log_std = self.log_std(h).clamp(-5.0, 2.0)
        return Normal(self.mu(h), log_std.exp())

    def act(self, obs):
        dist = self(obs)
        raw = dist.sample()
        return torch.tanh(raw)


class QCritic(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden=32):
        super().__init__()
        self.q = nn.Sequential(nn.Linear(obs_dim + act_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, obs, action):
        return self.q(torch.cat([obs, action], dim=-1)).squeeze(-1)


def sample_batch(buffer, batch_size, g):
    idx = torch.randint(0, buffer["obs"].shape[0], (batch_size,), generator=g)
    return {k: v[idx] for k, v in buffer.items()}


def update(actor, critic, actor_opt, critic_opt, batch, gamma=0.99):
    with torch.no_grad():
        next_a = actor.act(batch["next_obs"])
        target = batch["rew"] + gamma * (1 - batch["done"]) * critic(batch["next_obs"], next_a)
    critic_loss = F.mse_loss(critic(batch["obs"], batch["act"]), target)
    critic_opt.zero_grad()
    critic_loss.backward()
    critic_opt.step()

    actor_loss = -critic(batch["obs"], actor.act(batch["obs"])).mean()
    actor_opt.zero_grad()
    actor_loss.backward()
    actor_opt.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    obs_dim, act_dim, n = 6, 2, 64
    buffer = {
        "obs": torch.randn(n, obs_dim, generator=g), "act": torch.rand(n, act_dim, generator=g) * 2 - 1,
        "rew": torch.randn(n, generator=g), "next_obs": torch.randn(n, obs_dim, generator=g),
        "done": (torch.rand(n, generator=g) < 0.1).float(),
    }
    actor, critic = GaussianActor(obs_dim, act_dim), QCritic(obs_dim, act_dim)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=3e-4)
    critic_opt = torch.optim.Adam(critic.parameters(), lr=3e-4)
    mu_before = actor.mu.weight.detach().clone()
    for step in range(5):
        update(actor, critic, actor_opt, critic_opt, sample_batch(buffer, 16, g))
    facts = {"actor_changed": not torch.equal(mu_before, actor.mu.weight.detach())}
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
