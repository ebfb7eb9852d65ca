import copy
import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal


class GaussianActor(nn.Module):
    def __init__(self, obs_dim=4, act_dim=2, hidden=32):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, act_dim)
        self.log_std = nn.Linear(hidden, act_dim)

    def forward(self, obs):
        h = self.trunk(obs)
        std = self.log_std(h).clamp(-5, 2).exp()
        dist = Normal(self.mu(h), std)
        u = dist.rsample()
        action = torch.tanh(u)
        log_prob = dist.log_prob(u).sum(-1) - (2 * (math.log(2) - u - F.softplus(-2 * u))).sum(-1)
        return action, log_prob


class QNet(nn.Module):
    def __init__(self, obs_dim=4, act_dim=2, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim + act_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, obs, act):
        return self.net(torch.cat([obs, act], -1)).squeeze(-1)


class SAC:
    def __init__(self, act_dim=2, gamma=0.99, tau=0.01):
        self.actor, self.q1, self.q2 = GaussianActor(), QNet(), QNet()
        self.q1_targ, self.q2_targ = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        for p in list(self.q1_targ.parameters()) + list(self.q2_targ.parameters()):
            p.requires_grad = False
        self.log_alpha = torch.zeros(1, requires_grad=True)
        self.target_entropy = -float(act_dim)
        self.pi_opt = torch.optim.Adam(self.actor.parameters(), lr=3e-4)
        self.q_opt = torch.optim.Adam(list(self.q1.parameters()) + list(self.q2.parameters()), lr=3e-4)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=3e-4)
        self.gamma, self.tau = gamma, tau

    @property
    def alpha(self):
        return self.log_alpha.exp().detach()

    def update(self, obs, act, rew, next_obs, done):
        with torch.no_grad():
            next_act, next_logp = self.actor(next_obs)
            q_next = torch.min(self.q1_targ(next_obs, next_act), self.q2_targ(next_obs, next_act))
            backup = rew + self.gamma * (1 - done) * (q_next - self.alpha * next_logp)
        q_loss = F.mse_loss(self.q1(obs, act), backup) + F.mse_loss(self.q2(obs, act), backup)
        self.q_opt.zero_grad()
        q_loss.backward()
        self.q_opt.step()

        for p in list(self.q1.parameters()) + list(self.q2.parameters()):
            p.requires_grad = False
        pi_act, logp = self.actor(obs)
        pi_loss = (self.alpha * logp - torch.min(self.q1(obs, pi_act), self.q2(obs, pi_act))).mean()
        self.pi_opt.zero_grad()
        pi_loss.backward()
        self.pi_opt.step()
        for p in list(self.q1.parameters()) + list(self.q2.parameters()):
            p.requires_grad = True

        alpha_loss = -(self.log_alpha * (logp + self.target_entropy).detach()).mean()
        self.alpha_opt.zero_grad()
        alpha_loss.backward()
        self.alpha_opt.step()

        with torch.no_grad():
            for net, targ in ((self.q1, self.q1_targ), (self.q2, self.q2_targ)):
                for p, tp in zip(net.parameters(), targ.parameters()):
                    tp.mul_(1 - self.tau).add_(self.tau * p)


def main():
    torch.manual_seed(0)
    agent = SAC()
    g = torch.Generator().manual_seed(1)
    for _ in range(4):
        obs = torch.randn(32, 4, generator=g)
        act = torch.rand(32, 2, generator=g) * 2 - 1
        rew = -obs[:, :2].pow(2).sum(-1)
        agent.update(obs, act, rew, obs + 0.05 * torch.randn(32, 4, generator=g), torch.zeros(32))
    facts = {"alpha_moved": abs(agent.log_alpha.item()) > 0}
    return {"actor": agent.actor, "q1": agent.q1, "log_alpha": agent.log_alpha}, facts

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
