import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class DuelingQNet(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3, hidden=64):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.value = nn.Linear(hidden, 1)
        self.advantage = nn.Linear(hidden, n_actions)

    def forward(self, obs):
        h = self.trunk(obs)
        adv = self.advantage(h)
        return self.value(h) + adv - adv.mean(-1, keepdim=True)


def replay_buffer(n=128, obs_dim=6, n_actions=3):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, obs_dim, generator=g)
    actions = torch.randint(0, n_actions, (n,), generator=g)
    rewards = obs[:, 0] - 0.1 * actions.float()
    next_obs = obs + 0.1 * torch.randn(n, obs_dim, generator=g)
    dones = (torch.rand(n, generator=g) < 0.1).float()
    return TensorDataset(obs, actions, rewards, next_obs, dones)


def td_targets(online, target, rewards, next_obs, dones, gamma):
    with torch.no_grad():
        best = online(next_obs).argmax(-1, keepdim=True)
        next_q = target(next_obs).gather(1, best).squeeze(1)
        return rewards + gamma * (1.0 - dones) * next_q


def sync_target(online, target, tau):
    with torch.no_grad():
        for tp, op in zip(target.parameters(), online.parameters()):
            tp.lerp_(op, tau)


def main():
    set_seed(0)
    accelerator = Accelerator()
    online = DuelingQNet()
    target = copy.deepcopy(online).requires_grad_(False)
    optimizer = torch.optim.Adam(online.parameters(), lr=1e-3)
    loader = DataLoader(replay_buffer(), batch_size=32, shuffle=True)
    online, optimizer, loader = accelerator.prepare(online, optimizer, loader)
    gamma, tau = 0.99, 0.05
    t0 = target.value.weight.detach().clone()
    for epoch in range(2):
        for obs, actions, rewards, next_obs, dones in loader:
            q = online(obs).gather(1, actions[:, None]).squeeze(1)
            y = td_targets(online, target, rewards, next_obs, dones, gamma)
            loss = F.smooth_l1_loss(q, y)
            optimizer.zero_grad()
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(online.parameters(), 10.0)
            optimizer.step()
            sync_target(accelerator.unwrap_model(online), target, tau)
    return {"online": online}, {"target_synced": not torch.equal(t0, target.value.weight)}

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
