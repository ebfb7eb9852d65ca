import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class QNetwork(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3, hidden=32):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.value = nn.Linear(hidden, 1)
        self.advantage = nn.Linear(hidden, n_actions)

    def forward(self, obs):
        h = self.trunk(obs)
        adv = self.advantage(h)
        return self.value(h) + adv - adv.mean(dim=1, keepdim=True)


def double_dqn_targets(online, target, reward, next_obs, done, gamma):
    next_actions = online(next_obs).argmax(dim=1, keepdim=True).detach()
    next_q = target(next_obs).gather(1, next_actions).detach()
    return reward + gamma * (1.0 - done) * next_q


def train(online, target, loader, optimizer, gamma=0.99, sync_every=2):
    for step, (obs, action, reward, next_obs, done) in enumerate(loader):
        q = online(obs).gather(1, action)
        y = double_dqn_targets(online, target, reward, next_obs, done, gamma)
        loss = F.smooth_l1_loss(q, y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(online.parameters(), 10.0)
        optimizer.step()
        if (step + 1) % sync_every == 0:
            target.load_state_dict(online.state_dict())


def make_replay(n=96, obs_dim=6, n_actions=3):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, obs_dim, generator=g)
    action = torch.randint(0, n_actions, (n, 1), generator=g)
    reward = torch.randn(n, 1, generator=g)
    next_obs = obs + 0.1 * torch.randn(n, obs_dim, generator=g)
    done = (torch.rand(n, 1, generator=g) < 0.1).float()
    return DataLoader(TensorDataset(obs, action, reward, next_obs, done), batch_size=32, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    online = QNetwork()
    target = copy.deepcopy(online)
    for p in target.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.Adam(online.parameters(), lr=1e-3)
    before = online.advantage.weight.detach().clone()
    train(online, target, make_replay(), optimizer)
    return {"online": online}, {"online_changed": not torch.equal(before, online.advantage.weight)}

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
