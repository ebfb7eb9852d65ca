import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


def mlp(inp, out, hidden=32):
    return nn.Sequential(nn.Linear(inp, hidden), nn.ELU(), nn.Linear(hidden, out))


class LatentDynamics(nn.Module):
    """A pretrained world model used for imagination; it is trained elsewhere and frozen here."""

    def __init__(self, feat=8, act=2):
        super().__init__()
        self.transition = mlp(feat + act, feat)
        self.reward = mlp(feat, 1)

    def step(self, feat, action):
        nxt = torch.tanh(self.transition(torch.cat([feat, action], -1)))
        return nxt, self.reward(nxt).squeeze(-1)


class Actor(nn.Module):
    def __init__(self, feat=8, act=2):
        super().__init__()
        self.net = mlp(feat, 2 * act)

    def forward(self, feat):
        mean, std = self.net(feat).chunk(2, -1)
        return torch.distributions.Normal(torch.tanh(mean), F.softplus(std) + 0.1)


def imagine(dynamics, actor, start, horizon):
    feats, rewards, entropies = [start], [], []
    feat = start
    for _ in range(horizon):
        dist = actor(feat)
        action = dist.rsample()
        feat, reward = dynamics.step(feat, action)
        feats.append(feat)
        rewards.append(reward)
        entropies.append(dist.entropy().sum(-1))
    return torch.stack(feats), torch.stack(rewards), torch.stack(entropies)


def lambda_returns(rewards, values, discount, lam):
    returns, last = [], values[-1]
    for t in reversed(range(rewards.size(0))):
        last = rewards[t] + discount * ((1 - lam) * values[t + 1] + lam * last)
        returns.append(last)
    return torch.stack(returns[::-1])


@torch.no_grad()
def update_target(critic, target, tau):
    for p, tp in zip(critic.parameters(), target.parameters()):
        tp.mul_(1 - tau).add_(tau * p)


def train(fabric, dynamics, actor, critic, target_critic, opt_actor, opt_critic, cfg):
    g = torch.Generator().manual_seed(0)
    for _ in range(cfg["updates"]):
        start = torch.randn(cfg["batch"], 8, generator=g)
        feats, rewards, entropy = imagine(dynamics, actor, start, cfg["horizon"])
        with torch.no_grad():
            target_values = target_critic(feats).squeeze(-1)
        returns = lambda_returns(rewards, target_values, cfg["discount"], cfg["lambda"])
        actor_loss = -(returns.mean() + cfg["entropy_scale"] * entropy.mean())
        opt_actor.zero_grad()
        fabric.backward(actor_loss)
        opt_actor.step()
        values = critic(feats[:-1].detach()).squeeze(-1)
        critic_loss = F.mse_loss(values, returns.detach())
        opt_critic.zero_grad()
        fabric.backward(critic_loss)
        opt_critic.step()
        update_target(critic, target_critic, cfg["tau"])


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    dynamics = LatentDynamics().requires_grad_(False)
    actor, critic = Actor(), mlp(8, 1)
    target_critic = copy.deepcopy(critic).requires_grad_(False)
    opt_actor = torch.optim.Adam(actor.parameters(), lr=8e-5, eps=1e-5)
    opt_critic = torch.optim.Adam(critic.parameters(), lr=8e-5, eps=1e-5)
    actor, opt_actor = fabric.setup(actor, opt_actor)
    critic, opt_critic = fabric.setup(critic, opt_critic)
    a0, c0 = actor.net[0].weight.detach().clone(), critic.module[0].weight.detach().clone()
    t0, w0 = target_critic[0].weight.detach().clone(), dynamics.transition[0].weight.detach().clone()
    cfg = {"updates": 4, "batch": 8, "horizon": 5, "discount": 0.99, "lambda": 0.95, "entropy_scale": 3e-4, "tau": 0.02}
    train(fabric, dynamics, actor, critic, target_critic, opt_actor, opt_critic, cfg)
    return {"actor": actor.module, "critic": critic.module}, {
        "actor_changed": not torch.equal(a0, actor.net[0].weight),
        "critic_changed": not torch.equal(c0, critic.module[0].weight),
        "target_tracks_critic": not torch.equal(t0, target_critic[0].weight),
        "world_model_unchanged": torch.equal(w0, dynamics.transition[0].weight),
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
