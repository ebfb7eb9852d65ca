import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Actor(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, n_actions))

    def dist(self, obs):
        return torch.distributions.Categorical(logits=self.net(obs))


class Critic(nn.Module):
    def __init__(self, obs_dim=6):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, obs):
        return self.net(obs).squeeze(-1)


class PPO(pl.LightningModule):
    def __init__(self, clip_eps=0.2, vf_coef=0.5, ent_coef=0.01):
        super().__init__()
        self.actor, self.critic = Actor(), Critic()
        self.clip_eps, self.vf_coef, self.ent_coef = clip_eps, vf_coef, ent_coef

    def training_step(self, batch, batch_idx):
        obs, actions, old_logp, adv, returns = batch
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        dist = self.actor.dist(obs)
        new_logp = dist.log_prob(actions)
        ratio = torch.exp(new_logp - old_logp)
        surr1 = ratio * adv
        surr2 = ratio.clamp_(1.0 - self.clip_eps, 1.0 + self.clip_eps) * adv
        policy_loss = -torch.min(surr1, surr2).mean()
        value_loss = F.mse_loss(self.critic(obs), returns)
        entropy = dist.entropy().mean()
        return policy_loss + self.vf_coef * value_loss - self.ent_coef * entropy

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=3e-4)


def collect_rollout(model, n=64):
    obs = torch.randn(n, 6)
    with torch.no_grad():
        dist = model.actor.dist(obs)
        actions = dist.sample()
        old_logp = dist.log_prob(actions)
        values = model.critic(obs)
    rewards = (actions == obs[:, :3].argmax(1)).float()
    returns = rewards + 0.99 * values
    return obs, actions, old_logp, returns - values, returns


def main():
    pl.seed_everything(0)
    model = PPO()
    loader = DataLoader(TensorDataset(*collect_rollout(model)), batch_size=32, shuffle=True)
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
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
