import copy
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class QNetwork(nn.Module):
    def __init__(self, obs=4, n_actions=3):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(obs, 32), nn.ReLU())
        self.value = nn.Linear(32, 1)
        self.advantage = nn.Linear(32, n_actions)

    def forward(self, s):
        h = self.features(s)
        adv = self.advantage(h)
        return self.value(h) + adv - adv.mean(-1, keepdim=True)


class ReplayBuffer:
    def __init__(self, capacity=256, obs=4, seed=0):
        self.rng = np.random.default_rng(seed)
        self.s = np.zeros((capacity, obs), np.float32)
        self.a = np.zeros(capacity, np.int64)
        self.r = np.zeros(capacity, np.float32)
        self.s2 = np.zeros((capacity, obs), np.float32)
        self.done = np.zeros(capacity, np.float32)
        self.n = 0

    def add(self, s, a, r, s2, done):
        i = self.n % len(self.r)
        self.s[i], self.a[i], self.r[i], self.s2[i], self.done[i] = s, a, r, s2, done
        self.n += 1

    def sample(self, batch):
        idx = self.rng.integers(0, min(self.n, len(self.r)), batch)
        return self.s[idx], self.a[idx], self.r[idx], self.s2[idx], self.done[idx]


def td_loss(q_net, target_net, batch, gamma=0.9):
    s, a, r, s2, done = batch
    s, s2 = torch.from_numpy(s), torch.from_numpy(s2)
    q = q_net(s).gather(1, torch.from_numpy(a).unsqueeze(1)).squeeze(1)
    with torch.no_grad():
        next_q = target_net(s2).max(1).values.numpy()
    target = r + gamma * (1.0 - done) * next_q
    return F.smooth_l1_loss(q, torch.from_numpy(target.astype(np.float32)))


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    q_net = nn.DataParallel(QNetwork())
    target_net = copy.deepcopy(q_net.module)
    optimizer = torch.optim.Adam(q_net.parameters(), lr=1e-3)
    buffer = ReplayBuffer()
    for _ in range(64):
        s = rng.normal(size=4).astype(np.float32)
        a = int(rng.integers(0, 3))
        buffer.add(s, a, float(-abs(s[0]) + (a == 1)), s + 0.1, 0.0)
    before = q_net.module.advantage.weight.detach().clone()
    losses = []
    for step in range(5):
        loss = td_loss(q_net, target_net, buffer.sample(16))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % 2 == 1:
            target_net.load_state_dict(q_net.module.state_dict())
    facts = {"advantage_head_changed": not torch.equal(before, q_net.module.advantage.weight)}
    return {"q_net": q_net.module}, facts

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
