import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class QNetwork(nn.Module):
    def __init__(self, obs_dim=6, n_actions=4, hidden=64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.value = nn.Linear(hidden, 1)
        self.advantage = nn.Linear(hidden, n_actions)

    def forward(self, obs):
        h = self.body(obs)
        adv = self.advantage(h)
        return self.value(h) + adv - adv.mean(dim=1, keepdim=True)


class DoubleDQN:
    def __init__(self, obs_dim=6, n_actions=4, gamma=0.99, target_every=4):
        self.online = QNetwork(obs_dim, n_actions)
        self.target = copy.deepcopy(self.online)
        self.target.eval()
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=1e-3)
        self.gamma, self.target_every, self.updates = gamma, target_every, 0

    @torch.no_grad()
    def td_target(self, reward, next_obs, done):
        next_action = self.online(next_obs).argmax(dim=1, keepdim=True)
        next_q = self.target(next_obs).gather(1, next_action)
        return reward + self.gamma * (1.0 - done) * next_q

    def update(self, obs, action, reward, next_obs, done):
        q = self.online(obs).gather(1, action)
        loss = F.smooth_l1_loss(q, self.td_target(reward, next_obs, done))
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.online.parameters(), 10.0)
        self.optimizer.step()
        self.updates += 1
        if self.updates % self.target_every == 0:
            self.target.load_state_dict(self.online.state_dict())
        return loss.item()


def replay_loader(n=128, obs_dim=6, n_actions=4):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, obs_dim, generator=g)
    action = torch.randint(0, n_actions, (n, 1), generator=g)
    reward = (action == obs[:, :1].gt(0).long()).float()
    next_obs = obs + 0.1 * torch.randn(n, obs_dim, generator=g)
    done = (torch.rand(n, 1, generator=g) < 0.1).float()
    return DataLoader(TensorDataset(obs, action, reward, next_obs, done), batch_size=32, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    agent = DoubleDQN()
    losses = []
    for _ in range(2):
        for batch in replay_loader():
            losses.append(agent.update(*batch))
    synced = all(torch.equal(a, b) for a, b in zip(agent.online.state_dict().values(),
                                                    agent.target.state_dict().values()))
    target_grads = [p.grad for p in agent.target.parameters()]
    return ({"online": agent.online},
            {"target_synced_after_last_update": synced, "target_has_grad": any(g is not None for g in target_grads),
             "n_updates": agent.updates})

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
