import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class QNetwork(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, n_actions))

    def forward(self, obs):
        return self.net(obs)


def td_loss(q_net, target_net, batch, gamma=0.99):
    obs, action, reward, next_obs, done = batch
    q = q_net(obs).gather(1, action[:, None]).squeeze(1)
    with torch.no_grad():
        next_q = target_net(next_obs).max(1).values
        target = reward + gamma * (1 - done) * next_q
    return F.smooth_l1_loss(q, target)


def make_replay(n=128, obs_dim=6, n_actions=3):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, obs_dim, generator=g)
    action = torch.randint(0, n_actions, (n,), generator=g)
    reward = obs[:, 0] * (action == 1).float()
    next_obs = obs + 0.1 * torch.randn(n, obs_dim, generator=g)
    done = (torch.rand(n, generator=g) < 0.1).float()
    return TensorDataset(obs, action, reward, next_obs, done)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    q_net = QNetwork()
    target_net = copy.deepcopy(q_net)
    target_net.requires_grad_(False)
    optimizer = torch.optim.Adam(q_net.parameters(), lr=1e-3)
    q_model, optimizer = fabric.setup(q_net, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(make_replay(), batch_size=32, shuffle=True))
    before = q_net.net[0].weight.detach().clone()
    for step, batch in enumerate(loader):
        loss = td_loss(q_model, target_net, batch)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        if step % 2 == 1:
            target_net.load_state_dict(q_net.state_dict())
    return {"q_net": q_net}, {"q_net_changed": not torch.equal(before, q_net.net[0].weight)}

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
