import copy
import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"obs_dim": 5, "act_dim": 2, "hidden": 64, "gamma": 0.99, "tau": 0.005, "lr": 3e-4, "init_alpha": 0.2}


class GaussianActor(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, act_dim)
        self.log_std = nn.Linear(hidden, act_dim)

    def sample(self, obs):
        h = self.trunk(obs)
        mu, log_std = self.mu(h), self.log_std(h).clamp(-5, 2)
        dist = torch.distributions.Normal(mu, log_std.exp())
        u = dist.rsample()
        action = torch.tanh(u)
        log_prob = (dist.log_prob(u) - torch.log(1 - action.pow(2) + 1e-6)).sum(-1)
        return action, log_prob


class QNet(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim + act_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, obs, act):
        return self.net(torch.cat([obs, act], -1)).squeeze(-1)


class SACAgent:
    def __init__(self, cfg):
        self.cfg = cfg
        self.actor = GaussianActor(cfg["obs_dim"], cfg["act_dim"], cfg["hidden"])
        self.q1, self.q2 = QNet(cfg["obs_dim"], cfg["act_dim"], cfg["hidden"]), QNet(cfg["obs_dim"], cfg["act_dim"], cfg["hidden"])
        self.q1_target, self.q2_target = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        self.log_alpha = torch.tensor(math.log(cfg["init_alpha"]), requires_grad=True)
        self.target_entropy = -float(cfg["act_dim"])
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg["lr"])
        self.critic_opt = torch.optim.Adam(list(self.q1.parameters()) + list(self.q2.parameters()), lr=cfg["lr"])
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=cfg["lr"])

    @property
    def alpha(self):
        return self.log_alpha.exp().detach()

    def update_critics(self, obs, act, rew, next_obs, done):
        with torch.no_grad():
            next_act, next_logp = self.actor.sample(next_obs)
            target_q = torch.min(self.q1_target(next_obs, next_act), self.q2_target(next_obs, next_act))
            y = rew + self.cfg["gamma"] * (1 - done) * (target_q - self.alpha * next_logp)
        loss = F.mse_loss(self.q1(obs, act), y) + F.mse_loss(self.q2(obs, act), y)
        self.critic_opt.zero_grad()
        loss.backward()
        self.critic_opt.step()

    def update_actor_and_alpha(self, obs):
        action, log_prob = self.actor.sample(obs)
        q = torch.min(self.q1(obs, action), self.q2(obs, action))
        actor_loss = (self.alpha * log_prob - q).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()
        alpha_loss = -(self.log_alpha * (log_prob + self.target_entropy)).mean()
        self.alpha_opt.zero_grad()
        alpha_loss.backward()
        self.alpha_opt.step()

    @torch.no_grad()
    def soft_update(self):
        for tgt, src in ((self.q1_target, self.q1), (self.q2_target, self.q2)):
            for tp, p in zip(tgt.parameters(), src.parameters()):
                tp.mul_(1 - self.cfg["tau"]).add_(p, alpha=self.cfg["tau"])

    def train(self, loader, epochs=2):
        for _ in range(epochs):
            for obs, act, rew, next_obs, done in loader:
                self.update_critics(obs, act, rew, next_obs, done)
                self.update_actor_and_alpha(obs)
                self.soft_update()


def replay_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, cfg["obs_dim"], generator=g)
    act = torch.rand(n, cfg["act_dim"], generator=g) * 2 - 1
    rew = -(obs[:, :2] - act).pow(2).sum(-1)
    next_obs = obs + 0.05 * torch.randn(n, cfg["obs_dim"], generator=g)
    done = torch.zeros(n)
    return DataLoader(TensorDataset(obs, act, rew, next_obs, done), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    agent = SACAgent(CFG)
    agent.train(replay_loader(CFG))
    return {"actor": agent.actor, "log_alpha": agent.log_alpha}

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
