import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from accelerate import Accelerator
from accelerate.utils import set_seed

CFG = {"obs_dim": 5, "act_dim": 2, "hidden": 32, "n_steps": 48, "epochs": 3, "clip": 0.2, "lam": 0.9, "gamma": 0.95,
       "vf_coef": 0.5, "lr": 3e-4}


class GaussianActorCritic(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden):
        super().__init__()
        self.actor = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, act_dim))
        self.log_std = nn.Parameter(torch.full((act_dim,), -0.5))
        self.critic = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def dist(self, obs):
        return torch.distributions.Normal(self.actor(obs), self.log_std.exp())

    def value(self, obs):
        return self.critic(obs).squeeze(-1)


@torch.no_grad()
def rollout(model, cfg, g):
    obs = torch.randn(cfg["n_steps"], cfg["obs_dim"], generator=g)
    dist = model.dist(obs)
    actions = dist.sample()
    logp = dist.log_prob(actions).sum(-1)
    values = model.value(obs)
    rewards = -(actions - obs[:, :cfg["act_dim"]].tanh()).pow(2).sum(-1)
    adv, last = torch.zeros_like(rewards), 0.0
    for t in reversed(range(cfg["n_steps"])):
        nxt = values[t + 1] if t + 1 < cfg["n_steps"] else 0.0
        delta = rewards[t] + cfg["gamma"] * nxt - values[t]
        last = delta + cfg["gamma"] * cfg["lam"] * last
        adv[t] = last
    returns = adv + values
    return obs, actions, logp, returns, (adv - adv.mean()) / (adv.std() + 1e-8)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = GaussianActorCritic(CFG["obs_dim"], CFG["act_dim"], CFG["hidden"])
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = accelerator.prepare(model, optimizer)
    g = torch.Generator().manual_seed(0)
    a0 = model.actor[0].weight.detach().clone()
    c0 = model.critic[0].weight.detach().clone()
    for _ in range(2):
        data = TensorDataset(*rollout(model, CFG, g))
        loader = accelerator.prepare(DataLoader(data, batch_size=16, shuffle=True, generator=g))
        for _ in range(CFG["epochs"]):
            for obs, act, old_logp, ret, adv in loader:
                ratio = torch.exp(model.dist(obs).log_prob(act).sum(-1) - old_logp)
                pg = -torch.min(ratio * adv, ratio.clamp(1 - CFG["clip"], 1 + CFG["clip"]) * adv).mean()
                loss = pg + CFG["vf_coef"] * F.mse_loss(model.value(obs), ret)
                optimizer.zero_grad()
                accelerator.backward(loss)
                optimizer.step()
    return {"model": model}, {
        "actor_changed": not torch.equal(a0, model.actor[0].weight),
        "critic_changed": not torch.equal(c0, model.critic[0].weight),
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
