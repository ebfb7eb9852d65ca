import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical
from torch.utils.data import DataLoader, TensorDataset


class ActorCritic(nn.Module):
    def __init__(self, obs_dim=6, n_actions=4, hidden=64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.pi = nn.Linear(hidden, n_actions)
        self.v = nn.Linear(hidden, 1)

    def forward(self, obs):
        h = self.body(obs)
        return self.pi(h), self.v(h).squeeze(-1)


def n_step_returns(rewards, values_next, dones, gamma=0.99):
    return rewards + gamma * (1 - dones) * values_next


def a2c_loss(model, obs, actions, rewards, next_obs, dones, value_coef=0.5, ent_coef=0.01):
    logits, values = model(obs)
    with torch.no_grad():
        _, next_values = model(next_obs)
    returns = n_step_returns(rewards, next_values, dones)
    advantage = returns - values
    dist = Categorical(logits=logits)
    policy_loss = -(dist.log_prob(actions) * advantage.detach()).mean()
    value_loss = advantage.pow(2).mean()
    entropy = dist.entropy().mean()
    return policy_loss + value_coef * value_loss - ent_coef * entropy, entropy.detach()


def transitions(n=128):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, 6, generator=g)
    actions = torch.randint(0, 4, (n,), generator=g)
    rewards = (actions == obs[:, :4].argmax(-1)).float()
    next_obs = obs + 0.1 * torch.randn(n, 6, generator=g)
    dones = (torch.rand(n, generator=g) < 0.05).float()
    return TensorDataset(obs, actions, rewards, next_obs, dones)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(ActorCritic())
    optimizer = torch.optim.RMSprop(model.parameters(), lr=7e-4, alpha=0.99, eps=1e-5)
    loader = DataLoader(transitions(), batch_size=32, shuffle=True)
    pi0 = model.module.pi.weight.detach().clone()
    for epoch in range(2):
        for batch in loader:
            loss, entropy = a2c_loss(model, *batch)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
    return {"model": model.module}, {"policy_head_changed": not torch.equal(pi0, model.module.pi.weight)}

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
