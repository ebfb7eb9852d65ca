import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from lightning.fabric import Fabric

CFG = {"obs_dim": 4, "act_dim": 1, "hidden": 48, "gamma": 0.98, "tau": 0.05, "lr": 1e-3, "epochs": 2}


def mlp(i, o, h, out_act=None):
    layers = [nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o)]
    return nn.Sequential(*(layers + ([out_act] if out_act else [])))


class DDPGAgent(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.actor = mlp(cfg["obs_dim"], cfg["act_dim"], cfg["hidden"], nn.Tanh())
        self.critic = mlp(cfg["obs_dim"] + cfg["act_dim"], 1, cfg["hidden"])
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)

    def q(self, net, obs, act):
        return net(torch.cat([obs, act], -1)).squeeze(-1)


@torch.no_grad()
def polyak_update(target, online, tau):
    for tp, p in zip(target.parameters(), online.parameters()):
        tp.mul_(1 - tau).add_(p, alpha=tau)


def train(fabric, agent, actor_opt, critic_opt, loader, cfg):
    for _ in range(cfg["epochs"]):
        for obs, act, rew, next_obs, done in loader:
            with torch.no_grad():
                y = rew + cfg["gamma"] * (1 - done) * agent.q(agent.critic_target, next_obs, agent.actor_target(next_obs))
            critic_loss = F.smooth_l1_loss(agent.q(agent.critic, obs, act), y)
            critic_opt.zero_grad()
            fabric.backward(critic_loss)
            critic_opt.step()
            actor_loss = -agent.q(agent.critic, obs, agent.actor(obs)).mean()
            actor_opt.zero_grad()
            fabric.backward(actor_loss)
            actor_opt.step()
            polyak_update(agent.actor_target, agent.actor, cfg["tau"])
            polyak_update(agent.critic_target, agent.critic, cfg["tau"])


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    agent = DDPGAgent(CFG)
    actor_opt = torch.optim.Adam(agent.actor.parameters(), lr=CFG["lr"])
    critic_opt = torch.optim.Adam(agent.critic.parameters(), lr=CFG["lr"])
    model, actor_opt, critic_opt = fabric.setup(agent, actor_opt, critic_opt)
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(64, CFG["obs_dim"], generator=g)
    act = torch.rand(64, CFG["act_dim"], generator=g) * 2 - 1
    rew = -(obs[:, :1] - act).pow(2).squeeze(-1)
    data = TensorDataset(obs, act, rew, obs + 0.05 * torch.randn(64, CFG["obs_dim"], generator=g), torch.zeros(64))
    loader = fabric.setup_dataloaders(DataLoader(data, batch_size=16, shuffle=True, generator=g))
    a0 = agent.actor[0].weight.detach().clone()
    t0 = agent.actor_target[0].weight.detach().clone()
    train(fabric, agent, actor_opt, critic_opt, loader, CFG)
    return {"actor": agent.actor, "critic": agent.critic}, {
        "actor_changed": not torch.equal(a0, agent.actor[0].weight),
        "actor_target_tracks_actor": not torch.equal(t0, agent.actor_target[0].weight),
        "target_requires_grad": any(p.requires_grad for p in agent.actor_target.parameters()),
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
