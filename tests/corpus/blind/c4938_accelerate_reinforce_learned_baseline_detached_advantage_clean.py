import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed


class PolicyWithBaseline(nn.Module):
    def __init__(self, obs_dim=4, n_actions=2):
        super().__init__()
        self.policy = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, n_actions))
        self.baseline = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, 1))


def run_episode(model, g, T=10):
    log_probs, values, rewards = [], [], []
    for _ in range(T):
        obs = torch.randn(4, generator=g)
        dist = torch.distributions.Categorical(logits=model.policy(obs))
        action = dist.sample()
        log_probs.append(dist.log_prob(action))
        values.append(model.baseline(obs).squeeze(-1))
        rewards.append(float(action.item() == int(obs[0] > 0)))
    return torch.stack(log_probs), torch.stack(values), torch.tensor(rewards)


def discounted_returns(rewards, gamma=0.9):
    out, running = torch.zeros_like(rewards), 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def main():
    set_seed(0)
    g = torch.Generator().manual_seed(0)
    accelerator = Accelerator()
    model = PolicyWithBaseline()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model, optimizer = accelerator.prepare(model, optimizer)
    reward_log = []
    for episode in range(3):
        log_probs, values, rewards = run_episode(model, g)
        returns = discounted_returns(rewards)
        advantage = (returns - values).detach()
        loss = -(log_probs * advantage).mean() + 0.5 * (returns - values).pow(2).mean()
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        reward_log.append(rewards.sum().item())
    return {"model": model}

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
