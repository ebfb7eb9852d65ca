import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GaussianPolicy(nn.Module):
    def __init__(self, obs_dim=6, act_dim=2, hidden=32):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, act_dim)
        self.log_std = nn.Linear(hidden, act_dim)

    def forward(self, obs):
        h = self.trunk(obs)
        log_std = self.log_std(h).clamp(-5.0, 2.0)
        dist = torch.distributions.Normal(self.mu(h), log_std.exp())
        raw = dist.rsample()
        action = torch.tanh(raw)
        logp = dist.log_prob(raw).sum(-1) - torch.log(1 - action.pow(2) + 1e-6).sum(-1)
        return action, logp


class TwinQ(nn.Module):
    def __init__(self, obs_dim=6, act_dim=2, hidden=32):
        super().__init__()
        self.q1 = nn.Sequential(nn.Linear(obs_dim + act_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.q2 = nn.Sequential(nn.Linear(obs_dim + act_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, obs, act):
        x = torch.cat([obs, act], dim=-1)
        return self.q1(x).squeeze(-1), self.q2(x).squeeze(-1)


class SACAgent(pl.LightningModule):
    def __init__(self, gamma=0.99, alpha=0.2):
        super().__init__()
        self.actor = GaussianPolicy()
        self.critic = TwinQ()
        self.critic_target = TwinQ()
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.requires_grad_(False)
        self.gamma, self.alpha = gamma, alpha
        self.automatic_optimization = False

    def critic_objective(self, obs, act, rew, next_obs, done):
        with torch.no_grad():
            next_act, next_logp = self.actor(next_obs)
            tq1, tq2 = self.critic_target(next_obs, next_act)
            target = rew + self.gamma * (1 - done) * (torch.min(tq1, tq2) - self.alpha * next_logp)
        q1, q2 = self.critic(obs, act)
        return F.mse_loss(q1, target) + F.mse_loss(q2, target)

    def actor_objective(self, obs):
        new_act, logp = self.actor(obs)
        q1, q2 = self.critic(obs, new_act)
        return (self.alpha * logp - torch.min(q1, q2)).mean()

    @torch.no_grad()
    def soft_update(self, tau=0.05):
        for tp, p in zip(self.critic_target.parameters(), self.critic.parameters()):
            tp.mul_(1 - tau).add_(tau * p)

    def training_step(self, batch, batch_idx):
        obs, act, rew, next_obs, done = batch
        actor_opt, critic_opt = self.optimizers()
        critic_loss = self.critic_objective(obs, act, rew, next_obs, done)
        actor_loss = self.actor_objective(obs)

        critic_opt.zero_grad()
        self.manual_backward(critic_loss)
        critic_opt.step()

        actor_opt.zero_grad()
        self.manual_backward(actor_loss)
        actor_opt.step()
        self.soft_update()
        self.log_dict({"critic_loss": critic_loss.item(), "actor_loss": actor_loss.item()})

    def configure_optimizers(self):
        return [torch.optim.Adam(self.actor.parameters(), lr=3e-4),
                torch.optim.Adam(self.critic.parameters(), lr=3e-4)]


def replay_loader(n=64, obs_dim=6, act_dim=2):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, obs_dim, generator=g)
    act = torch.rand(n, act_dim, generator=g) * 2 - 1
    rew = torch.randn(n, generator=g)
    next_obs = obs + 0.1 * torch.randn(n, obs_dim, generator=g)
    done = (torch.rand(n, generator=g) < 0.05).float()
    return DataLoader(TensorDataset(obs, act, rew, next_obs, done), batch_size=32, shuffle=True)


def main():
    pl.seed_everything(0)
    agent = SACAgent()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(agent, replay_loader())
    return {"agent": agent}

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
