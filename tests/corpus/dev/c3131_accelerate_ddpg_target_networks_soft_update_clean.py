import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class Actor(nn.Module):
    def __init__(self, s_dim=5, a_dim=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(s_dim, 32), nn.ReLU(), nn.Linear(32, a_dim), nn.Tanh())

    def forward(self, s):
        return self.net(s)


class Critic(nn.Module):
    def __init__(self, s_dim=5, a_dim=2):
        super().__init__()
        self.q = nn.Sequential(nn.Linear(s_dim + a_dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, s, a):
        return self.q(torch.cat([s, a], -1))


def soft_update(target, source, tau):
    for tp, sp in zip(target.parameters(), source.parameters()):
        tp.data.mul_(1.0 - tau).add_(tau * sp.data)


def learn(accelerator, actor, critic, actor_target, critic_target, opt_a, opt_c, loader, gamma=0.99, tau=0.01):
    for state, action, reward, next_state, done in loader:
        with torch.no_grad():
            target_q = reward + gamma * (1 - done) * critic_target(next_state, actor_target(next_state))
        critic_loss = F.mse_loss(critic(state, action), target_q)
        opt_c.zero_grad()
        accelerator.backward(critic_loss)
        opt_c.step()
        actor_loss = -critic(state, actor(state)).mean()
        opt_a.zero_grad()
        accelerator.backward(actor_loss)
        opt_a.step()
        soft_update(critic_target, critic, tau)
        soft_update(actor_target, actor, tau)


def main():
    set_seed(0)
    accelerator = Accelerator()
    actor, critic = Actor(), Critic()
    actor_target, critic_target = copy.deepcopy(actor), copy.deepcopy(critic)
    opt_a = torch.optim.Adam(actor.parameters(), lr=1e-3)
    opt_c = torch.optim.Adam(critic.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.randn(48, 5, generator=g), torch.rand(48, 2, generator=g) * 2 - 1, torch.randn(48, 1, generator=g),
                       torch.randn(48, 5, generator=g), (torch.rand(48, 1, generator=g) < 0.1).float())
    loader = DataLoader(ds, batch_size=16, shuffle=True, generator=g)
    actor, critic, opt_a, opt_c, loader = accelerator.prepare(actor, critic, opt_a, opt_c, loader)
    a0, c0 = actor.net[0].weight.detach().clone(), critic.q[0].weight.detach().clone()
    t0 = actor_target.net[0].weight.detach().clone()
    learn(accelerator, actor, critic, actor_target, critic_target, opt_a, opt_c, loader)
    facts = {"actor_changed": not torch.equal(a0, actor.net[0].weight), "critic_changed": not torch.equal(c0, critic.q[0].weight),
             "actor_target_moved": not torch.equal(t0, actor_target.net[0].weight),
             "actor_target_has_grad": actor_target.net[0].weight.grad is not None}
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
