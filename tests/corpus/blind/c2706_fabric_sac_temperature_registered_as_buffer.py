import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class GaussianActor(nn.Module):
    def __init__(self, obs=3, act=1):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs, 32), nn.ReLU())
        self.mu, self.log_std = nn.Linear(32, act), nn.Linear(32, act)

    def forward(self, s):
        h = self.body(s)
        std = self.log_std(h).clamp(-5, 2).exp()
        u = self.mu(h) + std * torch.randn_like(std)
        a = torch.tanh(u)
        logp = (-0.5 * ((u - self.mu(h)) / std) ** 2 - std.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
        return a, logp - torch.log(1 - a.pow(2) + 1e-6).sum(-1)


class SACAgent(nn.Module):
    def __init__(self, obs=3, act=1, init_alpha=0.2):
        super().__init__()
        self.actor = GaussianActor(obs, act)
        self.q = nn.Sequential(nn.Linear(obs + act, 32), nn.ReLU(), nn.Linear(32, 1))
        self.register_buffer("log_alpha", torch.tensor([math.log(init_alpha)]))
        self.target_entropy = -float(act)

    @property
    def alpha(self):
        return self.log_alpha.exp()


def policy_and_temperature_loss(agent, states):
    actions, logp = agent.actor(states)
    q = agent.q(torch.cat([states, actions], -1)).squeeze(-1)
    actor_loss = (agent.alpha.detach() * logp - q).mean()
    alpha_loss = -(agent.log_alpha * (logp + agent.target_entropy).detach()).mean()
    return actor_loss, alpha_loss


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    agent = SACAgent()
    actor_opt = torch.optim.Adam(agent.actor.parameters(), lr=3e-3)
    alpha_opt = torch.optim.Adam([agent.log_alpha], lr=3e-2)
    agent, actor_opt, alpha_opt = fabric.setup(agent, actor_opt, alpha_opt)
    alpha_before = agent.log_alpha.detach().clone()
    for _ in range(4):
        states = torch.randn(16, 3)
        actor_loss, alpha_loss = policy_and_temperature_loss(agent, states)
        actor_opt.zero_grad()
        alpha_opt.zero_grad()
        fabric.backward(actor_loss + alpha_loss)
        actor_opt.step()
        alpha_opt.step()
    facts = {"alpha_changed": not torch.equal(alpha_before, agent.log_alpha)}
    return {"actor": agent.module.actor, "log_alpha": agent.module.log_alpha}, facts

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
