import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PPOLightning(pl.LightningModule):
    def __init__(self, obs_dim=4, n_actions=2, gamma=0.99, lam=0.95, clip=0.2):
        super().__init__()
        self.actor = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, n_actions))
        self.critic = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, 1))
        self.gamma, self.lam, self.clip = gamma, lam, clip

    def compute_gae(self, obs, rewards, dones):
        values = self.critic(obs).detach().cpu().numpy().squeeze(-1)
        advantages, last = np.zeros_like(values), 0.0
        for t in reversed(range(len(rewards))):
            next_v = 0.0 if t == len(rewards) - 1 or dones[t] else values[t + 1]
            delta = rewards[t] + self.gamma * next_v - values[t]
            last = delta + self.gamma * self.lam * (0.0 if dones[t] else last)
            advantages[t] = last
        return advantages, advantages + values

    def training_step(self, batch, batch_idx):
        obs, actions, old_logp, rewards, dones = batch
        advantages, returns = self.compute_gae(obs, rewards.numpy(), dones.numpy())
        adv = torch.as_tensor(advantages, dtype=torch.float32)
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        dist = torch.distributions.Categorical(logits=self.actor(obs))
        ratio = torch.exp(dist.log_prob(actions) - old_logp)
        policy_loss = -torch.min(ratio * adv, torch.clamp(ratio, 1 - self.clip, 1 + self.clip) * adv).mean()
        value_loss = F.mse_loss(self.critic(obs).squeeze(-1), torch.as_tensor(returns, dtype=torch.float32))
        return policy_loss + 0.5 * value_loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=3e-3)


def rollout(model, n=64):
    obs = torch.randn(n, 4)
    with torch.no_grad():
        dist = torch.distributions.Categorical(logits=model.actor(obs))
        actions = dist.sample()
        old_logp = dist.log_prob(actions)
    rewards = ((obs[:, 0] > 0).long() == actions).float()
    dones = torch.zeros(n, dtype=torch.bool)
    dones[15::16] = True
    return obs, actions, old_logp, rewards, dones


def main():
    pl.seed_everything(0)
    model = PPOLightning()
    loader = DataLoader(TensorDataset(*rollout(model)), batch_size=32, shuffle=False)
    w0 = model.actor[0].weight.detach().clone()
    pl.Trainer(max_epochs=3, logger=False, enable_checkpointing=False).fit(model, loader)
    model.zero_grad(set_to_none=True)
    model.training_step(next(iter(loader)), 0).backward()
    return {"model": model}, {"actor_changed": not torch.equal(w0, model.actor[0].weight)}

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
