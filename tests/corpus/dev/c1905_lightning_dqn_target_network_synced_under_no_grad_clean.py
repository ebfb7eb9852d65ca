import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class QNetwork(nn.Module):
    def __init__(self, obs_dim=6, n_actions=4, hidden=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.value = nn.Linear(hidden, 1)
        self.advantage = nn.Linear(hidden, n_actions)

    def forward(self, obs):
        h = self.body(obs)
        adv = self.advantage(h)
        return self.value(h) + adv - adv.mean(dim=1, keepdim=True)


class DQNLightning(pl.LightningModule):
    def __init__(self, gamma=0.97, sync_every=3, lr=5e-4):
        super().__init__()
        self.q_net = QNetwork()
        self.target_net = copy.deepcopy(self.q_net)
        self.target_net.requires_grad_(False)
        self.gamma, self.sync_every, self.lr = gamma, sync_every, lr
        self.updates = 0

    def td_target(self, rewards, next_obs, dones):
        with torch.no_grad():
            next_actions = self.q_net(next_obs).argmax(dim=1, keepdim=True)  # double DQN action selection
            next_q = self.target_net(next_obs).gather(1, next_actions).squeeze(1)
            return rewards + self.gamma * (1.0 - dones) * next_q

    def training_step(self, batch, batch_idx):
        obs, actions, rewards, next_obs, dones = batch
        q = self.q_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        loss = F.smooth_l1_loss(q, self.td_target(rewards, next_obs, dones))
        self.log("train/td_loss", loss.item())
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.updates += 1
        if self.updates % self.sync_every == 0:
            self.target_net.load_state_dict(self.q_net.state_dict())

    def configure_optimizers(self):
        return torch.optim.Adam(self.q_net.parameters(), lr=self.lr)


def replay_loader(n=48, obs_dim=6, n_actions=4):
    g = torch.Generator().manual_seed(1)
    obs = torch.randn(n, obs_dim, generator=g)
    actions = torch.randint(0, n_actions, (n,), generator=g)
    rewards = torch.randn(n, generator=g)
    next_obs = obs + 0.1 * torch.randn(n, obs_dim, generator=g)
    dones = (torch.rand(n, generator=g) < 0.1).float()
    return DataLoader(TensorDataset(obs, actions, rewards, next_obs, dones), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    loader = replay_loader()
    agent = DQNLightning()
    q0 = agent.q_net.body[0].weight.detach().clone()
    t0 = agent.target_net.body[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(agent, loader)
    agent.zero_grad(set_to_none=True)
    agent.training_step(next(iter(loader)), 0).backward()
    return ({"q_net": agent.q_net, "target_net": agent.target_net},
            {"q_changed": not torch.equal(q0, agent.q_net.body[0].weight),
             "target_changed": not torch.equal(t0, agent.target_net.body[0].weight)})

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
