import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

CFG = {"obs": 8, "actions": 4, "clip": 0.2, "vf_coef": 0.5, "ent_coef": 0.0, "gamma": 0.99, "lam": 0.95,
       "ppo_epochs": 2, "lr": 3e-3}


class ActorCritic(nn.Module):
    def __init__(self, obs, actions):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(obs, 32), nn.Tanh())
        self.pi = nn.Linear(32, actions)
        self.v = nn.Linear(obs, 1)

    def forward(self, obs):
        return torch.distributions.Categorical(logits=self.pi(self.trunk(obs))), self.v(obs).squeeze(-1)


def compute_gae(rewards, values, dones, gamma, lam):
    adv, last = np.zeros_like(rewards), 0.0
    for t in reversed(range(len(rewards))):
        nxt = values[t + 1] if t + 1 < len(values) else 0.0
        delta = rewards[t] + gamma * nxt * (1 - dones[t]) - values[t]
        last = delta + gamma * lam * (1 - dones[t]) * last
        adv[t] = last
    return adv


def collect_rollout(model, n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(n, CFG["obs"], generator=g)
    with torch.no_grad():
        dist, values = model(obs)
        actions = dist.sample()
        logp = dist.log_prob(actions)
    rewards = (actions == 1).float().numpy() + 0.1 * np.random.RandomState(seed).randn(n).astype(np.float32)
    dones = np.zeros(n, dtype=np.float32)
    dones[31] = 1.0
    adv = compute_gae(rewards, values.numpy(), dones, CFG["gamma"], CFG["lam"])
    returns = adv + values.numpy()
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    return TensorDataset(obs, actions, logp, torch.as_tensor(adv), torch.as_tensor(returns))


def clipped_surrogate(new_logp, old_logp, adv, clip):
    ratio = np.exp(new_logp.detach().cpu().numpy() - old_logp.cpu().numpy())
    surr = np.minimum(ratio * adv.numpy(), np.clip(ratio, 1 - clip, 1 + clip) * adv.numpy())
    return -torch.tensor(surr.mean())


def ppo_update(model, loader, optimizer, accelerator):
    for _ in range(CFG["ppo_epochs"]):
        for obs, act, old_logp, adv, ret in loader:
            dist, value = model(obs)
            policy_loss = clipped_surrogate(dist.log_prob(act), old_logp, adv, CFG["clip"])
            value_loss = F.mse_loss(value, ret)
            loss = policy_loss + CFG["vf_coef"] * value_loss - CFG["ent_coef"] * dist.entropy().mean()
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    model = ActorCritic(CFG["obs"], CFG["actions"])
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    loader = DataLoader(collect_rollout(model), batch_size=16, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    pi0, v0 = model.pi.weight.detach().clone(), model.v.weight.detach().clone()
    ppo_update(model, loader, optimizer, accelerator)
    return {"model": model}, {
        "policy_changed": not torch.equal(pi0, model.pi.weight),
        "value_changed": not torch.equal(v0, model.v.weight),
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
