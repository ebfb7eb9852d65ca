import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class QNetwork(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3, hidden=32):
        super().__init__()
        self.torso = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.q_head = nn.Linear(hidden, n_actions)

    def forward(self, obs):
        return self.q_head(self.torso(obs))


def make_replay_buffer(n=96, obs_dim=6, n_actions=3):
    g = torch.Generator().manual_seed(8)
    obs = torch.randn(n, obs_dim, generator=g)
    actions = torch.randint(0, n_actions, (n,), generator=g)
    rewards = torch.randn(n, generator=g)
    next_obs = obs + 0.1 * torch.randn(n, obs_dim, generator=g)
    dones = (torch.rand(n, generator=g) < 0.1).float()
    return TensorDataset(obs, actions, rewards, next_obs, dones)


def train(fabric, q_net, target_net, loader, optimizer, gamma=0.99, sync_every=4):
    step = 0
    for obs, actions, rewards, next_obs, dones in loader:
        with torch.no_grad():
            next_q = target_net(next_obs).max(dim=1).values
            td_target = rewards + gamma * next_q * (1 - dones)
        q = q_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        loss = F.smooth_l1_loss(q, td_target)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        step += 1
        if step % sync_every == 0:
            target_net.load_state_dict(q_net.state_dict())


def main():
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(3)
    q_net = QNetwork()
    target_net = QNetwork()
    target_net.load_state_dict(q_net.state_dict())
    target_net.requires_grad_(False)
    optimizer = torch.optim.Adam(q_net.parameters(), lr=1e-3)
    q_model, optimizer = fabric.setup(q_net, optimizer)
    target_model = fabric.setup_module(target_net)
    loader = fabric.setup_dataloaders(DataLoader(make_replay_buffer(), batch_size=16, shuffle=True))
    head0 = q_net.q_head.weight.detach().clone()
    train(fabric, q_model, target_model, loader, optimizer)
    synced = torch.equal(target_net.q_head.weight, q_net.q_head.weight) or not torch.equal(target_net.q_head.weight, head0)
    return {"q_net": q_net}, {"q_head_changed": not torch.equal(head0, q_net.q_head.weight), "target_synced": synced}

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
