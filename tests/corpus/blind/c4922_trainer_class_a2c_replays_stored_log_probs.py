import random

import torch
import torch.nn as nn


class PolicyValueNet(nn.Module):
    def __init__(self, obs_dim=5, n_actions=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh())
        self.pi, self.v = nn.Linear(32, n_actions), nn.Linear(32, 1)

    def forward(self, obs):
        h = self.body(obs)
        return torch.distributions.Categorical(logits=self.pi(h)), self.v(h).squeeze(-1)


class ReplayA2C:
    """Actor-critic with a small replay of recent transitions to reuse experience."""

    def __init__(self, net, lr=1e-3, batch=8, seed=0):
        self.net, self.batch = net, batch
        self.opt = torch.optim.Adam(net.parameters(), lr=lr)
        self.memory = []
        self.rng = random.Random(seed)

    def act(self, obs, g):
        dist, value = self.net(obs)
        action = dist.sample()
        reward = float(action.item() == int(obs[0] > 0))
        self.memory.append((dist.log_prob(action), value, reward))

    def learn(self):
        sample = self.rng.sample(self.memory, self.batch)
        log_probs = torch.stack([s[0] for s in sample])
        values = torch.stack([s[1] for s in sample])
        rewards = torch.tensor([s[2] for s in sample])
        adv = rewards - values
        loss = -(log_probs * adv.detach()).mean() + adv.pow(2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    agent = ReplayA2C(PolicyValueNet())
    for episode in range(3):
        for _ in range(8):
            agent.act(torch.randn(5, generator=g), g)
        agent.learn()
    return {"net": agent.net}

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
