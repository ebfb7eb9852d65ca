import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Actor(nn.Module):
    def __init__(self, s_dim=3, a_dim=1):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(s_dim, 32), nn.ReLU(), nn.Linear(32, a_dim), nn.Tanh())

    def forward(self, s):
        return 2.0 * self.net(s)


class Critic(nn.Module):
    def __init__(self, s_dim=3, a_dim=1):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(s_dim + a_dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, s, a):
        return self.net(torch.cat([s, a], -1))


def train(actor, critic, loader, actor_opt, critic_opt, gamma=0.99, tau=0.01, epochs=2):
    tgt_actor, tgt_critic = copy.deepcopy(actor), copy.deepcopy(critic)
    for _ in range(epochs):
        for states, actions, rewards, next_states, dones in loader:
            q_next = tgt_critic(next_states, tgt_actor(next_states)).detach()
            q_target = rewards + gamma * (1 - dones) * q_next
            critic_loss = F.mse_loss(critic(states, actions), q_target)
            critic_opt.zero_grad()
            critic_loss.backward()
            critic_opt.step()
            actor_loss = -critic(states, actor(states)).mean()
            actor_opt.zero_grad()
            actor_loss.backward()
            actor_opt.step()
            with torch.no_grad():
                for net, tgt in ((actor, tgt_actor), (critic, tgt_critic)):
                    for p, tp in zip(net.parameters(), tgt.parameters()):
                        tp.lerp_(p, tau)


def evaluate_policy(actor, states):
    with torch.no_grad():
        return actor(states).abs().mean().item()


def main():
    torch.manual_seed(0)
    actor, critic = Actor(), Critic()
    actor_opt = torch.optim.Adam(actor.parameters(), lr=1e-3)
    critic_opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.randn(64, 3, generator=g), torch.rand(64, 1, generator=g) * 4 - 2, torch.randn(64, 1, generator=g),
                       torch.randn(64, 3, generator=g), torch.zeros(64, 1))
    a0, c0 = actor.net[0].weight.detach().clone(), critic.net[0].weight.detach().clone()
    train(actor, critic, DataLoader(ds, batch_size=16, shuffle=True, generator=g), actor_opt, critic_opt)
    return {"actor": actor, "critic": critic}, {"actor_changed": not torch.equal(a0, actor.net[0].weight),
                                                "critic_changed": not torch.equal(c0, critic.net[0].weight)}

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
