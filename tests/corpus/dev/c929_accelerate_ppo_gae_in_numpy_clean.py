import numpy as np
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
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh())
        self.policy_head = nn.Linear(hidden, n_actions)
        self.value_head = nn.Linear(hidden, 1)

    def forward(self, obs):
        h = self.body(obs)
        return self.policy_head(h), self.value_head(h).squeeze(-1)


def compute_gae(rewards, values, dones, gamma=0.99, lam=0.95):
    advantages = np.zeros_like(rewards)
    last_gae = 0.0
    for t in reversed(range(len(rewards))):
        next_value = values[t + 1] if t + 1 < len(values) else 0.0
        delta = rewards[t] + gamma * next_value * (1 - dones[t]) - values[t]
        advantages[t] = last_gae = delta + gamma * lam * (1 - dones[t]) * last_gae
    return advantages, advantages + values


@torch.no_grad()
def collect_rollout(model, n=128, obs_dim=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(n, obs_dim, generator=g)
    dist = Categorical(logits=model(obs)[0])
    actions = dist.sample()
    old_logp = dist.log_prob(actions).detach()
    rewards = (actions == obs[:, :3].argmax(-1)).float().numpy()
    dones = (torch.arange(n) % 16 == 15).float().numpy()
    values = model(obs)[1].cpu().numpy()
    adv, returns = compute_gae(rewards, values, dones)
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    return TensorDataset(obs, actions, old_logp, torch.as_tensor(adv, dtype=torch.float32),
                         torch.as_tensor(returns, dtype=torch.float32))


def ppo_update(accelerator, model, loader, optimizer, epochs=3, clip=0.2):
    model.train()
    for _ in range(epochs):
        for obs, actions, old_logp, adv, returns in loader:
            logits, values = model(obs)
            new_logp = Categorical(logits=logits).log_prob(actions)
            ratio = torch.exp(new_logp - old_logp)
            policy_loss = -torch.min(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv).mean()
            loss = policy_loss + 0.5 * F.mse_loss(values, returns)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = ActorCritic()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(collect_rollout(model), batch_size=32, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    before = model.policy_head.weight.detach().clone()
    ppo_update(accelerator, model, loader, optimizer)
    return {"model": model}, {"policy_changed": not torch.equal(before, model.policy_head.weight)}

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
