import copy
import random
from collections import deque

import torch
import torch.nn as nn
import torch.nn.functional as F


class QNetwork(nn.Module):
    def __init__(self, obs_dim=4, n_actions=3, hidden=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.q = nn.Linear(hidden, n_actions)

    def forward(self, obs):
        return self.q(self.body(obs))


class ToyChainEnv:
    def __init__(self, seed=0):
        self.g = torch.Generator().manual_seed(seed)
        self.state = torch.zeros(4)

    def reset(self):
        self.state = torch.randn(4, generator=self.g) * 0.1
        return self.state.clone()

    def step(self, action):
        self.state = self.state + 0.1 * (action - 1) + 0.05 * torch.randn(4, generator=self.g)
        reward = float(-self.state.abs().sum())
        done = bool(self.state.abs().max() > 1.0)
        return self.state.clone(), reward, done


class ReplayBuffer:
    def __init__(self, capacity=500):
        self.data = deque(maxlen=capacity)

    def push(self, *transition):
        self.data.append(transition)

    def sample(self, batch_size):
        batch = random.sample(self.data, batch_size)
        obs, act, rew, nxt, done = zip(*batch)
        return (torch.stack(obs), torch.tensor(act), torch.tensor(rew), torch.stack(nxt), torch.tensor(done, dtype=torch.float32))


def select_action(policy_net, obs, eps):
    if random.random() < eps:
        return random.randrange(3)
    with torch.no_grad():
        return int(policy_net(obs[None]).argmax(1))


def optimize(policy_net, target_net, optimizer, buffer, gamma=0.99, batch_size=16):
    obs, act, rew, nxt, done = buffer.sample(batch_size)
    q = policy_net(obs).gather(1, act[:, None]).squeeze(1)
    with torch.no_grad():
        next_q = target_net(nxt).max(1).values
        target = rew + gamma * next_q * (1 - done)
    loss = F.smooth_l1_loss(q, target)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(policy_net.parameters(), 10.0)
    optimizer.step()
    return loss.item()


def train_dqn(policy_net, steps=60, sync_every=20, warmup=20):
    env = ToyChainEnv()
    target_net = copy.deepcopy(policy_net)
    target_net.eval()
    optimizer = torch.optim.Adam(policy_net.parameters(), lr=1e-3)
    buffer = ReplayBuffer()
    obs = env.reset()
    for step in range(steps):
        action = select_action(policy_net, obs, eps=max(0.05, 1 - step / 40))
        nxt, reward, done = env.step(action)
        buffer.push(obs, action, reward, nxt, done)
        obs = env.reset() if done else nxt
        if step >= warmup:
            optimize(policy_net, target_net, optimizer, buffer)
        if step % sync_every == 0:
            target_net.load_state_dict(policy_net.state_dict())
    return target_net


def main():
    random.seed(0)
    torch.manual_seed(0)
    policy_net = QNetwork()
    q0 = policy_net.q.weight.detach().clone()
    target_net = train_dqn(policy_net)
    return {"policy_net": policy_net}, {
        "policy_changed": not torch.equal(q0, policy_net.q.weight),
        "target_has_grad": target_net.q.weight.grad is not None,
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
