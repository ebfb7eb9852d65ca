import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"obs": 6, "act": 2, "gamma": 0.99, "tau": 0.05, "alpha": 0.2, "lr": 3e-3, "epochs": 2}


class GaussianPolicy(nn.Module):
    def __init__(self, obs, act):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs, 32), nn.ReLU())
        self.mu, self.log_std = nn.Linear(32, act), nn.Linear(32, act)

    def forward(self, obs):
        h = self.net(obs)
        return self.mu(h), self.log_std(h).clamp(-5, 2)


def squashed_sample(policy, obs):
    mu, log_std = policy(obs)
    dist = torch.distributions.Normal(mu, log_std.exp())
    u = dist.rsample()
    a = torch.tanh(u)
    logp = (dist.log_prob(u) - torch.log(1 - a.pow(2) + 1e-6)).sum(-1)
    return a, logp


class SAC(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.policy = GaussianPolicy(cfg["obs"], cfg["act"])
        self.q = nn.Sequential(nn.Linear(cfg["obs"] + cfg["act"], 64), nn.ReLU(), nn.Linear(64, 1))
        self.q_target = copy.deepcopy(self.q).requires_grad_(False)

    @torch.no_grad()
    def act(self, obs):
        """Sample actions from the current policy (also used to bootstrap targets)."""
        return squashed_sample(self.policy, obs)

    def q_value(self, net, obs, a):
        return net(torch.cat([obs, a], -1)).squeeze(-1)

    def training_step(self, batch, batch_idx):
        obs, a, r, next_obs, done = batch
        q_opt, pi_opt = self.optimizers()
        next_a, next_logp = self.act(next_obs)
        with torch.no_grad():
            target = r + self.cfg["gamma"] * (1 - done) * (
                self.q_value(self.q_target, next_obs, next_a) - self.cfg["alpha"] * next_logp)
        q_loss = F.mse_loss(self.q_value(self.q, obs, a), target)
        q_opt.zero_grad()
        self.manual_backward(q_loss)
        q_opt.step()

        new_a, logp = self.act(obs)
        pi_loss = (self.cfg["alpha"] * logp - self.q_value(self.q, obs, new_a)).mean()
        pi_opt.zero_grad()
        self.manual_backward(pi_loss)
        pi_opt.step()
        self.log_dict({"q_loss": q_loss.item(), "pi_loss": pi_loss.item()})

    def on_train_batch_end(self, outputs, batch, batch_idx):
        with torch.no_grad():
            for p, pt in zip(self.q.parameters(), self.q_target.parameters()):
                pt.lerp_(p, self.cfg["tau"])

    def configure_optimizers(self):
        return [torch.optim.Adam(self.q.parameters(), lr=self.cfg["lr"]),
                torch.optim.Adam(self.policy.parameters(), lr=self.cfg["lr"])]


def replay_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, cfg["obs"], generator=g)
    a = torch.rand(n, cfg["act"], generator=g) * 2 - 1
    r = -(a ** 2).sum(-1)
    return DataLoader(TensorDataset(obs, a, r, torch.randn(n, cfg["obs"], generator=g), torch.zeros(n)),
                      batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    agent = SAC(CFG)
    mu0, q0 = agent.policy.mu.weight.detach().clone(), agent.q[0].weight.detach().clone()
    pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False).fit(agent, replay_loader(CFG))
    return {"policy": agent.policy, "q": agent.q}, {
        "policy_changed": not torch.equal(mu0, agent.policy.mu.weight),
        "critic_changed": not torch.equal(q0, agent.q[0].weight),
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
