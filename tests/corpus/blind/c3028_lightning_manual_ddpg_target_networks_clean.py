import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Actor(nn.Module):
    def __init__(self, obs_dim=5, act_dim=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.ReLU(), nn.Linear(32, act_dim), nn.Tanh())

    def forward(self, obs):
        return self.net(obs)


class Critic(nn.Module):
    def __init__(self, obs_dim=5, act_dim=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim + act_dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, obs, act):
        return self.net(torch.cat([obs, act], -1)).squeeze(-1)


def soft_update(target, source, tau):
    with torch.no_grad():
        for pt, ps in zip(target.parameters(), source.parameters()):
            pt.data.mul_(1 - tau).add_(ps.data, alpha=tau)


class DDPG(pl.LightningModule):
    def __init__(self, gamma=0.95, tau=0.05):
        super().__init__()
        self.automatic_optimization = False
        self.actor, self.critic = Actor(), Critic()
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.gamma, self.tau = gamma, tau

    def training_step(self, batch, batch_idx):
        actor_opt, critic_opt = self.optimizers()
        obs, act, rew, next_obs, done = batch
        with torch.no_grad():
            target_q = rew + self.gamma * (1 - done) * self.critic_target(next_obs, self.actor_target(next_obs))
        critic_loss = F.mse_loss(self.critic(obs, act), target_q.detach())
        critic_opt.zero_grad()
        self.manual_backward(critic_loss)
        critic_opt.step()

        actor_loss = -self.critic(obs, self.actor(obs)).mean()
        actor_opt.zero_grad()
        self.manual_backward(actor_loss)
        actor_opt.step()
        soft_update(self.actor_target, self.actor, self.tau)
        soft_update(self.critic_target, self.critic, self.tau)

    def configure_optimizers(self):
        return (torch.optim.Adam(self.actor.parameters(), lr=1e-3), torch.optim.Adam(self.critic.parameters(), lr=1e-3))


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(48, 5, generator=g)
    data = TensorDataset(obs, torch.rand(48, 2, generator=g) * 2 - 1, torch.rand(48, generator=g),
                         obs + 0.1 * torch.randn(48, 5, generator=g), (torch.rand(48, generator=g) < 0.1).float())
    model = DDPG()
    a0 = model.actor.net[0].weight.detach().clone()
    t0 = model.actor_target.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=16, shuffle=True, generator=g))
    facts = {"actor_changed": not torch.equal(a0, model.actor.net[0].weight),
             "actor_target_changed": not torch.equal(t0, model.actor_target.net[0].weight)}
    return {"actor": model.actor, "critic": model.critic, "actor_target": model.actor_target}, facts

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
