import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class QNetwork(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3, hidden=64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.q_head = nn.Linear(hidden, n_actions)

    def forward(self, obs):
        return self.q_head(self.body(obs))


class DQNAgent:
    def __init__(self, obs_dim=6, n_actions=3, gamma=0.99, lr=5e-4, target_every=4):
        self.q_net = QNetwork(obs_dim, n_actions)
        self.target_net = copy.deepcopy(self.q_net)
        self.target_net.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.q_net.parameters(), lr=lr)
        self.gamma = gamma
        self.target_every = target_every
        self.updates = 0

    def act(self, obs, epsilon=0.1):
        if torch.rand(()) < epsilon:
            return torch.randint(0, self.q_net.q_head.out_features, ())
        with torch.no_grad():
            return self.q_net(obs.unsqueeze(0)).argmax(1)[0]

    @torch.no_grad()
    def compute_td_loss(self, obs, actions, rewards, next_obs, dones):
        q_taken = self.q_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        next_q = self.target_net(next_obs).max(dim=1).values
        td_target = rewards + self.gamma * (1.0 - dones) * next_q
        return F.smooth_l1_loss(q_taken, td_target)

    def update(self, batch):
        loss = self.compute_td_loss(*batch)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.updates += 1
        if self.updates % self.target_every == 0:
            self.target_net.load_state_dict(self.q_net.state_dict())
        return loss.item()


def make_replay_loader(n=128, obs_dim=6, n_actions=3):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, obs_dim, generator=g)
    actions = torch.randint(0, n_actions, (n,), generator=g)
    rewards = torch.randn(n, generator=g)
    next_obs = obs + 0.1 * torch.randn(n, obs_dim, generator=g)
    dones = (torch.rand(n, generator=g) < 0.1).float()
    ds = TensorDataset(obs, actions, rewards, next_obs, dones)
    return DataLoader(ds, batch_size=32, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    agent = DQNAgent()
    for epoch in range(2):
        for batch in make_replay_loader():
            agent.update(batch)
    return {"q_net": agent.q_net}

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
