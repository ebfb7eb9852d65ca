import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.distributions import Normal
from torch.utils.data import DataLoader, TensorDataset


class GaussianActor(nn.Module):
    def __init__(self, obs_dim=4, act_dim=2):
        super().__init__()
        self.mu = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, act_dim))
        self.log_std = nn.Parameter(torch.full((act_dim,), -0.5))

    def forward(self, obs):
        return Normal(self.mu(obs), self.log_std.exp())


class ValueNet(nn.Module):
    def __init__(self, obs_dim=4):
        super().__init__()
        self.v = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, obs):
        return self.v(obs).squeeze(-1)


class PPOModule(pl.LightningModule):
    def __init__(self, n_updates_per_iteration=3, clip=0.2):
        super().__init__()
        self.automatic_optimization = False
        self.actor, self.critic = GaussianActor(), ValueNet()
        self.n_updates, self.clip = n_updates_per_iteration, clip

    def training_step(self, batch, batch_idx):
        actor_opt, critic_opt = self.optimizers()
        obs, acts, old_logp, batch_rtgs = batch
        V = self.critic(obs)
        A_k = batch_rtgs - V.detach()
        A_k = (A_k - A_k.mean()) / (A_k.std() + 1e-10)
        for _ in range(self.n_updates):
            V = self.critic(obs)
            curr_logp = self.actor(obs).log_prob(acts).sum(-1)
            ratios = torch.exp(curr_logp - old_logp)
            actor_loss = -torch.min(ratios * A_k, torch.clamp(ratios, 1 - self.clip, 1 + self.clip) * A_k).mean()
            actor_opt.zero_grad()
            self.manual_backward(actor_loss)
            actor_opt.step()
            critic_loss = F.mse_loss(V, batch_rtgs)
            critic_opt.zero_grad()
            self.manual_backward(critic_loss)
            critic_opt.step()

    def configure_optimizers(self):
        return [torch.optim.Adam(self.actor.parameters(), lr=3e-3), torch.optim.Adam(self.critic.parameters(), lr=3e-3)]


def rollout(actor, n=48):
    obs = torch.randn(n, 4)
    with torch.no_grad():
        dist = actor(obs)
        acts = dist.sample()
        logp = dist.log_prob(acts).sum(-1)
    rtgs = -(acts - obs[:, :2]).pow(2).sum(-1)
    return TensorDataset(obs, acts, logp, rtgs)


def main():
    pl.seed_everything(0)
    module = PPOModule()
    a0 = module.actor.mu[0].weight.detach().clone()
    c0 = module.critic.v[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False).fit(module, DataLoader(rollout(module.actor), batch_size=16))
    return {"actor": module.actor, "critic": module.critic}, {
        "actor_changed": not torch.equal(a0, module.actor.mu[0].weight),
        "critic_changed": not torch.equal(c0, module.critic.v[0].weight),
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
