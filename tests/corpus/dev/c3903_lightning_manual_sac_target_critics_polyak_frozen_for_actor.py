import copy
import itertools
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class GaussianActor(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, act_dim)
        self.log_std = nn.Linear(hidden, act_dim)

    def sample(self, s):
        h = self.body(s)
        mu, log_std = self.mu(h), self.log_std(h).clamp(-5, 2)
        dist = torch.distributions.Normal(mu, log_std.exp())
        u = dist.rsample()
        a = torch.tanh(u)
        logp = (dist.log_prob(u) - torch.log(1 - a.pow(2) + 1e-6)).sum(-1)
        return a, logp


class QNet(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim + act_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, s, a):
        return self.net(torch.cat([s, a], -1)).squeeze(-1)


class SACAgent(pl.LightningModule):
    def __init__(self, obs_dim=6, act_dim=2, gamma=0.97, tau=0.05, alpha=0.1):
        super().__init__()
        self.automatic_optimization = False
        self.actor = GaussianActor(obs_dim, act_dim)
        self.q1, self.q2 = QNet(obs_dim, act_dim), QNet(obs_dim, act_dim)
        self.q1_targ, self.q2_targ = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        for p in itertools.chain(self.q1_targ.parameters(), self.q2_targ.parameters()):
            p.requires_grad_(False)
        self.gamma, self.tau, self.alpha = gamma, tau, alpha

    def critic_params(self):
        return itertools.chain(self.q1.parameters(), self.q2.parameters())

    def training_step(self, batch, batch_idx):
        opt_actor, opt_critic = self.optimizers()
        s, a, r, s2, d = batch
        with torch.no_grad():
            a2, logp2 = self.actor.sample(s2)
            q_targ = torch.min(self.q1_targ(s2, a2), self.q2_targ(s2, a2)) - self.alpha * logp2
            y = r + self.gamma * (1 - d) * q_targ
        critic_loss = F.mse_loss(self.q1(s, a), y) + F.mse_loss(self.q2(s, a), y)
        opt_critic.zero_grad()
        self.manual_backward(critic_loss)
        opt_critic.step()

        for p in self.critic_params():
            p.requires_grad_(False)
        a_pi, logp = self.actor.sample(s)
        actor_loss = (self.alpha * logp - torch.min(self.q1(s, a_pi), self.q2(s, a_pi))).mean()
        opt_actor.zero_grad()
        self.manual_backward(actor_loss)
        opt_actor.step()
        for p in self.critic_params():
            p.requires_grad_(True)

        with torch.no_grad():
            for net, targ in ((self.q1, self.q1_targ), (self.q2, self.q2_targ)):
                for p, p_t in zip(net.parameters(), targ.parameters()):
                    p_t.mul_(1 - self.tau).add_(self.tau * p)
        self.log_dict({"critic_loss": critic_loss.item(), "actor_loss": actor_loss.item()})

    def configure_optimizers(self):
        return [torch.optim.Adam(self.actor.parameters(), lr=3e-3),
                torch.optim.Adam(self.critic_params(), lr=3e-3)]


def replay_loader(n=64, obs_dim=6, act_dim=2):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(n, obs_dim, generator=g)
    a = torch.rand(n, act_dim, generator=g) * 2 - 1
    r = -(s[:, :act_dim] - a).pow(2).sum(-1)
    s2 = s + 0.1 * torch.randn(n, obs_dim, generator=g)
    d = (torch.rand(n, generator=g) < 0.05).float()
    return DataLoader(TensorDataset(s, a, r, s2, d), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    agent = SACAgent()
    mu0 = agent.actor.mu.weight.detach().clone()
    q0 = agent.q1.net[0].weight.detach().clone()
    t0 = agent.q1_targ.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(agent, replay_loader())
    return {"model": agent}, {
        "actor_changed": not torch.equal(mu0, agent.actor.mu.weight),
        "critic_changed": not torch.equal(q0, agent.q1.net[0].weight),
        "target_tracked": not torch.equal(t0, agent.q1_targ.net[0].weight),
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
