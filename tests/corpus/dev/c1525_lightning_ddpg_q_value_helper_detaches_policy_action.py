import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Actor(nn.Module):
    def __init__(self, obs_dim=6, act_dim=2, max_action=1.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.ReLU(), nn.Linear(32, act_dim), nn.Tanh())
        self.max_action = max_action

    def forward(self, obs):
        return self.max_action * self.net(obs)


class Critic(nn.Module):
    def __init__(self, obs_dim=6, act_dim=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim + act_dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, obs, action):
        return self.net(torch.cat([obs, action], dim=-1)).squeeze(-1)


class DDPG(pl.LightningModule):
    def __init__(self, gamma=0.99, tau=0.05):
        super().__init__()
        self.automatic_optimization = False
        self.actor, self.critic = Actor(), Critic()
        self.actor_target, self.critic_target = copy.deepcopy(self.actor), copy.deepcopy(self.critic)
        for p in list(self.actor_target.parameters()) + list(self.critic_target.parameters()):
            p.requires_grad_(False)
        self.gamma, self.tau = gamma, tau

    def q_value(self, critic, obs, action):
        """Critic evaluation; the action is treated as an input, not something to differentiate."""
        return critic(obs, action.detach())

    def training_step(self, batch, batch_idx):
        obs, action, reward, next_obs, done = batch
        actor_opt, critic_opt = self.optimizers()

        with torch.no_grad():
            next_q = self.q_value(self.critic_target, next_obs, self.actor_target(next_obs))
            target_q = reward + self.gamma * (1.0 - done) * next_q
        critic_loss = F.mse_loss(self.q_value(self.critic, obs, action), target_q)
        critic_opt.zero_grad()
        self.manual_backward(critic_loss)
        critic_opt.step()

        actor_loss = -self.q_value(self.critic, obs, self.actor(obs)).mean()
        actor_opt.zero_grad()
        self.manual_backward(actor_loss)
        actor_opt.step()
        self.log_dict({"critic_loss": critic_loss, "actor_loss": actor_loss})

    def on_train_batch_end(self, outputs, batch, batch_idx):
        with torch.no_grad():
            for net, target in ((self.actor, self.actor_target), (self.critic, self.critic_target)):
                for p, tp in zip(net.parameters(), target.parameters()):
                    tp.lerp_(p, self.tau)

    def configure_optimizers(self):
        return [torch.optim.Adam(self.actor.parameters(), lr=1e-3), torch.optim.Adam(self.critic.parameters(), lr=1e-3)]


def replay_loader(n=64):
    g = torch.Generator().manual_seed(31)
    obs = torch.randn(n, 6, generator=g)
    action = torch.rand(n, 2, generator=g) * 2 - 1
    reward = -(obs[:, :2] - action).pow(2).sum(1)
    next_obs = obs + 0.1 * torch.randn(n, 6, generator=g)
    done = (torch.rand(n, generator=g) < 0.05).float()
    return DataLoader(TensorDataset(obs, action, reward, next_obs, done), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(31)
    agent = DDPG()
    actor0 = agent.actor.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(agent, replay_loader())
    return {"actor": agent.actor, "critic": agent.critic}, {"actor_changed": not torch.equal(actor0, agent.actor.net[0].weight)}

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
