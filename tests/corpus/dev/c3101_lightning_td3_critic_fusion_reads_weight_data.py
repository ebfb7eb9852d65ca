import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Actor(nn.Module):
    def __init__(self, s_dim, a_dim, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(s_dim, hidden), nn.ReLU(), nn.Linear(hidden, a_dim), nn.Tanh())

    def forward(self, s):
        return self.net(s)


class Critic(nn.Module):
    def __init__(self, s_dim, a_dim, hidden=32):
        super().__init__()
        self.layer_1 = nn.Linear(s_dim, hidden)
        self.layer_2_s = nn.Linear(hidden, hidden, bias=False)
        self.layer_2_a = nn.Linear(a_dim, hidden)
        self.layer_3 = nn.Linear(hidden, 1)

    def forward(self, s, action):
        h = F.relu(self.layer_1(s))
        s_part = torch.mm(h, self.layer_2_s.weight.data.t())
        a_part = torch.mm(action, self.layer_2_a.weight.data.t()) + self.layer_2_a.bias.data
        return self.layer_3(F.relu(s_part + a_part))


def soft_update(target, source, tau):
    with torch.no_grad():
        for tp, sp in zip(target.parameters(), source.parameters()):
            tp.mul_(1 - tau).add_(tau * sp)


class TD3Agent(pl.LightningModule):
    def __init__(self, s_dim=6, a_dim=2, gamma=0.99, tau=0.05, policy_delay=2):
        super().__init__()
        self.actor, self.critic = Actor(s_dim, a_dim), Critic(s_dim, a_dim)
        self.actor_target, self.critic_target = copy.deepcopy(self.actor), copy.deepcopy(self.critic)
        for p in list(self.actor_target.parameters()) + list(self.critic_target.parameters()):
            p.requires_grad_(False)
        self.gamma, self.tau, self.policy_delay = gamma, tau, policy_delay
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        s, a, r, s2, done = batch
        opt_actor, opt_critic = self.optimizers()
        with torch.no_grad():
            noise = (0.2 * torch.randn_like(a)).clamp(-0.5, 0.5)
            a2 = (self.actor_target(s2) + noise).clamp(-1, 1)
            target_q = r + self.gamma * (1 - done) * self.critic_target(s2, a2)
        critic_loss = F.mse_loss(self.critic(s, a), target_q)
        opt_critic.zero_grad()
        self.manual_backward(critic_loss)
        opt_critic.step()
        if batch_idx % self.policy_delay == 0:
            actor_loss = -self.critic(s, self.actor(s)).mean()
            opt_actor.zero_grad()
            self.manual_backward(actor_loss)
            opt_actor.step()
            soft_update(self.actor_target, self.actor, self.tau)
            soft_update(self.critic_target, self.critic, self.tau)
        self.log("critic_loss", critic_loss.item())

    def configure_optimizers(self):
        return [torch.optim.Adam(self.actor.parameters(), lr=1e-3), torch.optim.Adam(self.critic.parameters(), lr=1e-3)]


def replay_loader(n=64, s_dim=6, a_dim=2):
    g = torch.Generator().manual_seed(0)
    s, a = torch.randn(n, s_dim, generator=g), torch.rand(n, a_dim, generator=g) * 2 - 1
    r, s2 = torch.randn(n, 1, generator=g), torch.randn(n, s_dim, generator=g)
    done = (torch.rand(n, 1, generator=g) < 0.1).float()
    return DataLoader(TensorDataset(s, a, r, s2, done), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    agent = TD3Agent()
    w2s, w1 = agent.critic.layer_2_s.weight.detach().clone(), agent.critic.layer_1.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(agent, replay_loader())
    facts = {"layer_2_s_changed": not torch.equal(w2s, agent.critic.layer_2_s.weight),
             "layer_1_changed": not torch.equal(w1, agent.critic.layer_1.weight)}
    return {"critic": agent.critic}, facts

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
