import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed


class LatentDynamics(nn.Module):
    """Learned latent transition and reward model of a small grid-world (already fitted to replay data)."""

    def __init__(self, latent=16, n_actions=4):
        super().__init__()
        self.n_actions = n_actions
        self.transition = nn.Sequential(nn.Linear(latent + n_actions, 32), nn.ELU(), nn.Linear(32, latent))
        self.reward = nn.Linear(latent, 1)

    def step(self, state, action_onehot):
        return state + self.transition(torch.cat([state, action_onehot], -1))


class Actor(nn.Module):
    def __init__(self, latent=16, n_actions=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, 32), nn.ELU(), nn.Linear(32, n_actions))

    def forward(self, state):
        return self.net(state)


class Critic(nn.Module):
    def __init__(self, latent=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, 32), nn.ELU(), nn.Linear(32, 1))

    def forward(self, state):
        return self.net(state).squeeze(-1)


def imagine(dynamics, actor, start, horizon=5):
    states, state = [], start
    for _ in range(horizon):
        logits = actor(state)
        action = torch.distributions.Categorical(logits=logits).sample()
        action_onehot = F.one_hot(action, dynamics.n_actions).float()
        state = dynamics.step(state, action_onehot)
        states.append(state)
    return torch.stack(states)


def imagined_return(dynamics, critic, states, gamma=0.95):
    rewards = dynamics.reward(states).squeeze(-1)
    discounts = gamma ** torch.arange(len(states), dtype=torch.float32)[:, None]
    return (discounts * rewards).sum(0) + gamma ** len(states) * critic(states[-1])


def main():
    set_seed(0)
    accelerator = Accelerator()
    dynamics, actor, critic = LatentDynamics(), Actor(), Critic()
    actor_opt = torch.optim.Adam(actor.parameters(), lr=8e-3)
    dynamics, actor, critic, actor_opt = accelerator.prepare(dynamics, actor, critic, actor_opt)
    a0 = actor.net[0].weight.detach().clone()
    for update in range(5):
        start = torch.randn(32, 16)
        states = imagine(dynamics, actor, start)
        actor_loss = -imagined_return(dynamics, critic, states).mean()
        actor_opt.zero_grad()
        accelerator.backward(actor_loss)
        actor_opt.step()
    return {"actor": actor}, {
        "actor_changed": not torch.equal(a0, actor.net[0].weight),
        "dynamics_got_grads": dynamics.transition[0].weight.grad is not None,
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
