import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed


class ToyChainEnv:
    def __init__(self, n_states=4, horizon=5, seed=0):
        self.g = torch.Generator().manual_seed(seed)
        self.n_states, self.horizon = n_states, horizon

    def reset(self):
        self.t, self.s = 0, int(torch.randint(0, self.n_states, (1,), generator=self.g))
        return F.one_hot(torch.tensor(self.s), self.n_states).float()

    def step(self, action):
        self.t += 1
        reward = 1.0 if action == self.s % 2 else 0.0
        self.s = int(torch.randint(0, self.n_states, (1,), generator=self.g))
        return F.one_hot(torch.tensor(self.s), self.n_states).float(), reward, self.t >= self.horizon


class Policy(nn.Module):
    def __init__(self, n_states=4, n_actions=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_states, 16), nn.Tanh(), nn.Linear(16, n_actions))

    def forward(self, s):
        return torch.distributions.Categorical(logits=self.net(s))


class ReinforceAgent:
    def __init__(self, policy, gamma=0.95):
        self.policy, self.gamma = policy, gamma
        self.log_probs = []
        self.rewards = []
        self.entropies = []

    def act(self, state):
        dist = self.policy(state)
        action = dist.sample()
        self.log_probs.append(dist.log_prob(action))
        self.entropies.append(dist.entropy())
        return int(action)

    def finish_episode(self):
        returns, R = [], 0.0
        for r in reversed(self.rewards):
            R = r + self.gamma * R
            returns.insert(0, R)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + 1e-6)
        policy_loss = -(torch.stack(self.log_probs) * returns).sum()
        entropy_bonus = torch.stack(self.entropies).mean()
        self.log_probs, self.rewards = [], []
        return policy_loss - 0.01 * entropy_bonus


def main():
    set_seed(0)
    accelerator = Accelerator()
    policy = Policy()
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
    policy, optimizer = accelerator.prepare(policy, optimizer)
    agent, env = ReinforceAgent(policy), ToyChainEnv()
    for episode in range(3):
        state, done = env.reset(), False
        while not done:
            state, reward, done = env.step(agent.act(state))
            agent.rewards.append(reward)
        loss = agent.finish_episode()
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return {"policy": policy}

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
