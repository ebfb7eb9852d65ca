import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.distributions import Categorical
from torch.utils.data import DataLoader, TensorDataset


class ActorCritic(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3, hidden=32):
        super().__init__()
        self.shared = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh())
        self.pi = nn.Linear(hidden, n_actions)
        self.v = nn.Linear(hidden, 1)

    def forward(self, obs):
        h = self.shared(obs)
        return Categorical(logits=self.pi(h)), self.v(h).squeeze(-1)


def collect_rollout(policy, steps=32, obs_dim=6):
    obs_buf, act_buf, logp_buf, val_buf, rew_buf, done_buf = [], [], [], [], [], []
    obs = torch.randn(obs_dim)
    with torch.no_grad():
        for t in range(steps):
            dist, value = policy(obs[None])
            action = dist.sample()
            obs_buf.append(obs); act_buf.append(action[0]); logp_buf.append(dist.log_prob(action)[0])
            val_buf.append(value[0])
            rew_buf.append(torch.tanh(obs[action[0]]))
            done_buf.append(torch.tensor(float(t % 16 == 15)))
            obs = 0.9 * obs + 0.3 * torch.randn(obs_dim)
    return [torch.stack(b) for b in (obs_buf, act_buf, logp_buf, val_buf, rew_buf, done_buf)]


def compute_gae(rewards, values, dones, gamma=0.99, lam=0.95):
    adv = torch.zeros_like(rewards)
    last = 0.0
    for t in reversed(range(len(rewards))):
        next_v = values[t + 1] if t + 1 < len(values) else 0.0
        delta = rewards[t] + gamma * next_v * (1 - dones[t]) - values[t]
        last = delta + gamma * lam * (1 - dones[t]) * last
        adv[t] = last
    return adv, adv + values


def main():
    set_seed(0)
    accelerator = Accelerator()
    policy = ActorCritic()
    optimizer = torch.optim.Adam(policy.parameters(), lr=3e-4, eps=1e-5)
    policy, optimizer = accelerator.prepare(policy, optimizer)
    obs, actions, old_logp, values, rewards, dones = collect_rollout(policy)
    advantages, returns = compute_gae(rewards, values, dones)
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    loader = DataLoader(TensorDataset(obs, actions, old_logp, advantages, returns), batch_size=8, shuffle=True)
    pi0 = policy.pi.weight.detach().clone()
    clip = 0.2
    for epoch in range(3):
        for b_obs, b_act, b_old_logp, b_adv, b_ret in loader:
            dist, value = policy(b_obs)
            ratio = torch.exp(dist.log_prob(b_act) - b_old_logp)
            pg_loss = -torch.min(ratio * b_adv, ratio.clamp(1 - clip, 1 + clip) * b_adv).mean()
            v_loss = F.mse_loss(value, b_ret)
            loss = pg_loss + 0.5 * v_loss - 0.01 * dist.entropy().mean()
            optimizer.zero_grad()
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(policy.parameters(), 0.5)
            optimizer.step()
    return {"policy": policy}, {"policy_changed": not torch.equal(pi0, policy.pi.weight)}

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
