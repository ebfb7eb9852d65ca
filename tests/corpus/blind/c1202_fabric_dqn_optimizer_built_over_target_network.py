import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class QNetwork(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3, hidden=32):
        super().__init__()
        self.torso = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, n_actions)

    def forward(self, obs):
        return self.head(self.torso(obs))


class ReplayBuffer:
    def __init__(self, n=256, obs_dim=6, n_actions=3, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.obs = torch.randn(n, obs_dim, generator=g)
        self.actions = torch.randint(0, n_actions, (n,), generator=g)
        self.rewards = torch.randn(n, generator=g)
        self.next_obs = torch.randn(n, obs_dim, generator=g)
        self.dones = (torch.rand(n, generator=g) < 0.1).float()
        self.g = g

    def sample(self, batch_size):
        idx = torch.randint(0, self.obs.size(0), (batch_size,), generator=self.g)
        return self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx], self.dones[idx]


def build_agent(lr=1e-3):
    policy_net = QNetwork()
    target_net = copy.deepcopy(policy_net)
    target_net.requires_grad_(False)
    optimizer = torch.optim.Adam(target_net.parameters(), lr=lr)
    return policy_net, target_net, optimizer


def td_update(policy_net, target_net, optimizer, fabric, batch, gamma=0.99):
    obs, actions, rewards, next_obs, dones = batch
    q = policy_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
    with torch.no_grad():
        next_q = target_net(next_obs).max(dim=1).values
        target = rewards + gamma * (1.0 - dones) * next_q
    loss = F.smooth_l1_loss(q, target)
    optimizer.zero_grad()
    fabric.backward(loss)
    optimizer.step()
    return loss.item()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    policy_net, target_net, optimizer = build_agent()
    policy_net, optimizer = fabric.setup(policy_net, optimizer)
    buffer = ReplayBuffer()
    before = policy_net.module.torso[0].weight.detach().clone()
    for step in range(40):
        td_update(policy_net, target_net, optimizer, fabric, buffer.sample(32))
        if step % 10 == 9:
            target_net.load_state_dict(policy_net.module.state_dict())
    facts = {"policy_changed": not torch.equal(before, policy_net.module.torso[0].weight)}
    return {"policy": policy_net.module, "target": target_net}, facts

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
