import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GaussianActor(nn.Module):
    def __init__(self, s_dim=4, a_dim=2):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(s_dim, 32), nn.ReLU())
        self.mu, self.log_std = nn.Linear(32, a_dim), nn.Linear(32, a_dim)

    def forward(self, s):
        h = self.body(s)
        std = self.log_std(h).clamp(-5, 2).exp()
        u = self.mu(h) + std * torch.randn_like(std)
        logp = (-0.5 * ((u - self.mu(h)) / std) ** 2 - std.log()).sum(-1, keepdim=True)
        a = torch.tanh(u)
        return a, logp - torch.log(1 - a.pow(2) + 1e-6).sum(-1, keepdim=True)


class QNet(nn.Module):
    def __init__(self, s_dim=4, a_dim=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(s_dim + a_dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, s, a):
        return self.net(torch.cat([s, a], -1))


class SAC(pl.LightningModule):
    def __init__(self, gamma=0.99, tau=0.02, alpha=0.1):
        super().__init__()
        self.actor, self.critic1, self.critic2 = GaussianActor(), QNet(), QNet()
        self.target1, self.target2 = copy.deepcopy(self.critic1), copy.deepcopy(self.critic2)
        self.target1.requires_grad_(False)
        self.target2.requires_grad_(False)
        self.gamma, self.tau, self.alpha = gamma, tau, alpha
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        s, a, r, s2, d = batch
        opt_actor, opt_critic = self.optimizers()
        with torch.no_grad():
            a2, logp2 = self.actor(s2)
            q_next = torch.min(self.target1(s2, a2), self.target2(s2, a2)) - self.alpha * logp2
            y = r + self.gamma * (1 - d) * q_next
        critic_loss = F.mse_loss(self.critic1(s, a), y) + F.mse_loss(self.critic2(s, a), y)
        opt_critic.zero_grad()
        self.manual_backward(critic_loss)
        opt_critic.step()
        new_a, logp = self.actor(s)
        actor_loss = (self.alpha * logp - torch.min(self.critic1(s, new_a), self.critic2(s, new_a))).mean()
        opt_actor.zero_grad()
        self.manual_backward(actor_loss)
        opt_actor.step()
        with torch.no_grad():
            for tgt, src in ((self.target1, self.critic1), (self.target2, self.critic2)):
                for tp, sp in zip(tgt.parameters(), src.parameters()):
                    tp.mul_(1 - self.tau).add_(self.tau * sp)

    def configure_optimizers(self):
        critic_params = list(self.critic1.parameters()) + list(self.critic2.parameters())
        return [torch.optim.Adam(self.actor.parameters(), lr=1e-3), torch.optim.Adam(critic_params, lr=1e-3)]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.randn(48, 4, generator=g), torch.rand(48, 2, generator=g) * 2 - 1, torch.randn(48, 1, generator=g),
                       torch.randn(48, 4, generator=g), torch.zeros(48, 1))
    agent = SAC()
    a0, c0, t0 = agent.actor.mu.weight.detach().clone(), agent.critic1.net[0].weight.detach().clone(), agent.target1.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(agent, DataLoader(ds, batch_size=16))
    facts = {"actor_changed": not torch.equal(a0, agent.actor.mu.weight), "critic1_changed": not torch.equal(c0, agent.critic1.net[0].weight),
             "target_changed": not torch.equal(t0, agent.target1.net[0].weight),
             "target_requires_grad": agent.target1.net[0].weight.requires_grad}
    return {"actor": agent.actor, "critic1": agent.critic1, "critic2": agent.critic2}, facts

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
