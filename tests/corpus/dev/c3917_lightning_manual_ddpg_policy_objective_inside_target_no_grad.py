import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Actor(nn.Module):
    def __init__(self, obs_dim=5, act_dim=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.ReLU(), nn.Linear(32, act_dim), nn.Tanh())

    def forward(self, s):
        return self.net(s)


class Critic(nn.Module):
    def __init__(self, obs_dim=5, act_dim=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim + act_dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, s, a):
        return self.net(torch.cat([s, a], -1)).squeeze(-1)


class DDPG(pl.LightningModule):
    def __init__(self, gamma=0.98, tau=0.02):
        super().__init__()
        self.automatic_optimization = False
        self.actor, self.critic = Actor(), Critic()
        self.actor_targ, self.critic_targ = copy.deepcopy(self.actor), copy.deepcopy(self.critic)
        self.actor_targ.requires_grad_(False)
        self.critic_targ.requires_grad_(False)
        self.gamma, self.tau = gamma, tau

    def training_step(self, batch, batch_idx):
        opt_actor, opt_critic = self.optimizers()
        s, a, r, s2, done = batch
        with torch.no_grad():
            y = r + self.gamma * (1 - done) * self.critic_targ(s2, self.actor_targ(s2))
            q_pi = self.critic(s, self.actor(s))
        critic_loss = F.mse_loss(self.critic(s, a), y)
        opt_critic.zero_grad()
        self.manual_backward(critic_loss)
        opt_critic.step()

        actor_loss = -q_pi.mean()
        opt_actor.zero_grad()
        self.manual_backward(actor_loss)
        opt_actor.step()
        self.soft_update()

    @torch.no_grad()
    def soft_update(self):
        for net, targ in ((self.actor, self.actor_targ), (self.critic, self.critic_targ)):
            for p, p_t in zip(net.parameters(), targ.parameters()):
                p_t.lerp_(p, self.tau)

    def configure_optimizers(self):
        return [torch.optim.Adam(self.actor.parameters(), lr=1e-3), torch.optim.Adam(self.critic.parameters(), lr=1e-3)]


def transitions(n=64):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(n, 5, generator=g)
    a = torch.rand(n, 2, generator=g) * 2 - 1
    r = -(a - s[:, :2].tanh()).pow(2).sum(-1)
    return DataLoader(TensorDataset(s, a, r, s + 0.05 * torch.randn(n, 5, generator=g), torch.zeros(n)),
                      batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    agent = DDPG()
    actor0 = agent.actor.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(agent, transitions())
    return {"model": agent}, {"actor_changed": not torch.equal(actor0, agent.actor.net[0].weight)}

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
