import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class QNetwork(nn.Module):
    def __init__(self, obs_dim=8, n_actions=4):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.value = nn.Linear(64, 1)
        self.advantage = nn.Linear(64, n_actions)

    def forward(self, obs):
        h = self.body(obs)
        adv = self.advantage(h)
        return self.value(h) + adv - adv.mean(dim=1, keepdim=True)


class ReplayBuffer:
    def __init__(self, n=256, obs_dim=8, n_actions=4, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.obs = torch.randn(n, obs_dim, generator=g)
        self.actions = torch.randint(0, n_actions, (n,), generator=g)
        self.rewards = torch.randn(n, generator=g)
        self.next_obs = self.obs + 0.1 * torch.randn(n, obs_dim, generator=g)
        self.dones = (torch.rand(n, generator=g) < 0.1).float()
        self.g = g

    def sample(self, batch_size):
        idx = torch.randint(0, len(self.obs), (batch_size,), generator=self.g)
        return self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx], self.dones[idx]


def double_dqn_targets(q_net, target_net, rewards, next_obs, dones, gamma):
    with torch.no_grad():
        next_actions = q_net(next_obs).argmax(dim=1, keepdim=True)
        next_q = target_net(next_obs).gather(1, next_actions).squeeze(1)
        return rewards + gamma * (1.0 - dones) * next_q


def train_dqn(q_net, buffer, optimizer, steps=60, batch_size=32, gamma=0.99, sync_every=20):
    target_net = copy.deepcopy(q_net).eval()
    losses = []
    for step in range(1, steps + 1):
        obs, actions, rewards, next_obs, dones = buffer.sample(batch_size)
        targets = double_dqn_targets(q_net, target_net, rewards, next_obs, dones, gamma)
        q_taken = q_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        loss = F.smooth_l1_loss(q_taken, targets)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(q_net.parameters(), 10.0)
        optimizer.step()
        losses.append(loss.item())
        if step % sync_every == 0:
            target_net.load_state_dict(q_net.state_dict())
    return target_net, losses


def main():
    torch.manual_seed(0)
    q_net = QNetwork()
    optimizer = torch.optim.Adam(q_net.parameters(), lr=1e-3)
    w0 = q_net.advantage.weight.detach().clone()
    target_net, losses = train_dqn(q_net, ReplayBuffer(), optimizer)
    return {"q_net": q_net}, {"q_changed": not torch.equal(w0, q_net.advantage.weight),
                              "target_synced": torch.equal(target_net.advantage.weight, q_net.advantage.weight),
                              "target_has_grad": any(p.grad is not None for p in target_net.parameters())}

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
