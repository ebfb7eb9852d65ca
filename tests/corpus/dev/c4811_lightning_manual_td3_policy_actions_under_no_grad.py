import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"obs_dim": 6, "act_dim": 2, "hidden": 64, "gamma": 0.99, "tau": 0.01, "policy_noise": 0.2,
       "noise_clip": 0.5, "policy_delay": 2, "lr_actor": 1e-3, "lr_critic": 1e-3}


class Actor(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, act_dim), nn.Tanh())

    def forward(self, obs):
        return self.net(obs)


class TwinCritic(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden):
        super().__init__()
        self.q1_net = nn.Sequential(nn.Linear(obs_dim + act_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.q2_net = nn.Sequential(nn.Linear(obs_dim + act_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, obs, act):
        sa = torch.cat([obs, act], -1)
        return self.q1_net(sa).squeeze(-1), self.q2_net(sa).squeeze(-1)

    def q1(self, obs, act):
        return self.q1_net(torch.cat([obs, act], -1)).squeeze(-1)


@torch.no_grad()
def soft_update(target, source, tau):
    for tp, p in zip(target.parameters(), source.parameters()):
        tp.lerp_(p, tau)


class TD3(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.actor = Actor(cfg["obs_dim"], cfg["act_dim"], cfg["hidden"])
        self.critic = TwinCritic(cfg["obs_dim"], cfg["act_dim"], cfg["hidden"])
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)

    def training_step(self, batch, batch_idx):
        actor_opt, critic_opt = self.optimizers()
        obs, act, rew, next_obs, done = batch
        c = self.cfg
        with torch.no_grad():
            noise = (torch.randn_like(act) * c["policy_noise"]).clamp(-c["noise_clip"], c["noise_clip"])
            next_act = (self.actor_target(next_obs) + noise).clamp(-1, 1)
            target_q = torch.min(*self.critic_target(next_obs, next_act))
            y = rew + c["gamma"] * (1 - done) * target_q
            pi = self.actor(obs)
        q1, q2 = self.critic(obs, act)
        critic_loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        critic_opt.zero_grad()
        self.manual_backward(critic_loss)
        critic_opt.step()
        if batch_idx % c["policy_delay"] == 0:
            actor_loss = -self.critic.q1(obs, pi).mean()
            actor_opt.zero_grad()
            self.manual_backward(actor_loss)
            actor_opt.step()
            soft_update(self.actor_target, self.actor, c["tau"])
            soft_update(self.critic_target, self.critic, c["tau"])
        self.log_dict({"critic_loss": critic_loss.item()})

    def configure_optimizers(self):
        return (torch.optim.Adam(self.actor.parameters(), lr=self.cfg["lr_actor"]),
                torch.optim.Adam(self.critic.parameters(), lr=self.cfg["lr_critic"]))


def replay_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, cfg["obs_dim"], generator=g)
    act = torch.rand(n, cfg["act_dim"], generator=g) * 2 - 1
    rew = -(obs[:, :2] - act).pow(2).sum(-1)
    next_obs = obs + 0.1 * torch.randn(n, cfg["obs_dim"], generator=g)
    done = (torch.rand(n, generator=g) < 0.05).float()
    return DataLoader(TensorDataset(obs, act, rew, next_obs, done), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    agent = TD3(CFG)
    a0 = agent.actor.net[0].weight.detach().clone()
    c0 = agent.critic.q1_net[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(agent, replay_loader(CFG))
    return {"actor": agent.actor}, {
        "actor_changed": not torch.equal(a0, agent.actor.net[0].weight),
        "critic_changed": not torch.equal(c0, agent.critic.q1_net[0].weight),
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
