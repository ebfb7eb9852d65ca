import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.distributions import Normal
from torch.utils.data import DataLoader, TensorDataset


class TanhGaussianActor(nn.Module):
    def __init__(self, obs_dim=5, act_dim=2):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, 32), nn.ReLU())
        self.mu, self.log_std = nn.Linear(32, act_dim), nn.Linear(32, act_dim)

    def get_action_logprob(self, obs):
        h = self.body(obs)
        dist = Normal(self.mu(h), self.log_std(h).clamp(-5, 2).exp())
        u = dist.rsample()
        a = torch.tanh(u)
        logp = (dist.log_prob(u) - torch.log(1 - a.pow(2) + 1e-6)).sum(-1)
        return a, logp


class TwinCritic(nn.Module):
    def __init__(self, obs_dim=5, act_dim=2):
        super().__init__()
        self.q1 = nn.Sequential(nn.Linear(obs_dim + act_dim, 32), nn.ReLU(), nn.Linear(32, 1))
        self.q2 = nn.Sequential(nn.Linear(obs_dim + act_dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, obs, act):
        x = torch.cat([obs, act], dim=-1)
        return self.q1(x).squeeze(-1), self.q2(x).squeeze(-1)


class SACAgent(pl.LightningModule):
    def __init__(self, gamma=0.99, alpha=0.2, tau=0.01):
        super().__init__()
        self.automatic_optimization = False
        self.act = TanhGaussianActor()
        self.cri = TwinCritic()
        self.cri_target = copy.deepcopy(self.cri).requires_grad_(False)
        self.gamma, self.alpha, self.tau = gamma, alpha, tau

    def training_step(self, batch, batch_idx):
        opt_act, opt_cri = self.optimizers()
        obs, act, rew, next_obs, done = batch
        with torch.no_grad():
            next_a, next_logp = self.act.get_action_logprob(next_obs)
            q_next = torch.min(*self.cri_target(next_obs, next_a)) - self.alpha * next_logp
            q_label = rew + self.gamma * (1 - done) * q_next
        q1, q2 = self.cri(obs, act)
        critic_loss = F.mse_loss(q1, q_label) + F.mse_loss(q2, q_label)
        opt_cri.zero_grad()
        self.manual_backward(critic_loss)
        opt_cri.step()
        a_pg, logp = self.act.get_action_logprob(obs)
        actor_loss = (self.alpha * logp - torch.min(*self.cri(obs, a_pg))).mean()
        opt_act.zero_grad()
        self.manual_backward(actor_loss)
        opt_act.step()
        with torch.no_grad():
            for t, s in zip(self.cri_target.parameters(), self.cri.parameters()):
                t.lerp_(s, self.tau)

    def configure_optimizers(self):
        return [torch.optim.Adam(self.act.parameters(), lr=3e-3), torch.optim.Adam(self.cri.parameters(), lr=3e-3)]


def replay(n=64):
    obs = torch.randn(n, 5)
    act = torch.rand(n, 2) * 2 - 1
    rew = -(act - torch.tanh(obs[:, :2])).pow(2).sum(-1)
    return TensorDataset(obs, act, rew, obs + 0.05 * torch.randn(n, 5), torch.zeros(n))


def main():
    pl.seed_everything(0)
    agent = SACAgent()
    a0 = agent.act.mu.weight.detach().clone()
    c0 = agent.cri.q1[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False).fit(agent, DataLoader(replay(), batch_size=16, shuffle=True))
    return {"act": agent.act, "cri": agent.cri}, {
        "actor_changed": not torch.equal(a0, agent.act.mu.weight),
        "critic_changed": not torch.equal(c0, agent.cri.q1[0].weight),
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
