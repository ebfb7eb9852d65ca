import copy

import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class QNetwork(nn.Module):
    def __init__(self, obs_dim=4, n_actions=3, hidden=32):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.value = nn.Linear(hidden, 1)
        self.advantage = nn.Linear(hidden, n_actions)

    def forward(self, obs):
        h = self.features(obs)
        adv = self.advantage(h)
        return self.value(h) + adv - adv.mean(dim=-1, keepdim=True)


class TorchApproximator:
    """numpy in, numpy out: what the environment loop talks to."""

    def __init__(self, network):
        self.network = network

    def predict(self, obs_np):
        with torch.no_grad():
            q = self.network(torch.as_tensor(obs_np, dtype=torch.float32))
        return q.detach().cpu().numpy()


class ToyEnv:
    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.state = self.rng.normal(size=4)

    def step(self, action):
        reward = float(-abs(self.state[action % 4]))
        self.state = 0.9 * self.state + 0.1 * self.rng.normal(size=4)
        return self.state.copy(), reward, bool(self.rng.random() < 0.05)


class ReplayDataset(Dataset):
    def __init__(self):
        self.items = []

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


class DQN(pl.LightningModule):
    def __init__(self, gamma=0.95, eps=0.2):
        super().__init__()
        self.q = QNetwork()
        self.target_q = copy.deepcopy(self.q)
        self.approx = TorchApproximator(self.q)
        self.gamma, self.eps = gamma, eps
        self.env, self.buffer = ToyEnv(), ReplayDataset()
        self.rng = np.random.default_rng(1)
        self.collect(64)

    def collect(self, n):
        obs = self.env.state.copy()
        for _ in range(n):
            q_values = self.approx.predict(obs[None])[0]
            action = int(self.rng.integers(3)) if self.rng.random() < self.eps else int(q_values.argmax())
            nxt, rew, done = self.env.step(action)
            self.buffer.items.append((obs.astype(np.float32), action, np.float32(rew), nxt.astype(np.float32), np.float32(done)))
            obs = nxt

    def training_step(self, batch, batch_idx):
        obs, act, rew, nxt, done = batch
        q_sa = self.q(obs).gather(1, act[:, None]).squeeze(1)
        with torch.no_grad():
            next_a = self.q(nxt).argmax(dim=1, keepdim=True)
            next_q = self.target_q(nxt).gather(1, next_a).squeeze(1)
            target = rew + self.gamma * (1 - done) * next_q
        loss = F.smooth_l1_loss(q_sa, target)
        self.log("td_loss", loss.item())
        return loss

    def on_train_epoch_end(self):
        self.target_q.load_state_dict(self.q.state_dict())
        self.collect(16)

    def configure_optimizers(self):
        return torch.optim.Adam(self.q.parameters(), lr=1e-3)


def main():
    pl.seed_everything(0)
    agent = DQN()
    loader = DataLoader(agent.buffer, batch_size=16, shuffle=True)
    w0 = agent.q.advantage.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(agent, loader)
    return ({"q": agent.q},
            {"q_changed": not torch.equal(w0, agent.q.advantage.weight.detach()),
             "target_has_grad": any(p.grad is not None for p in agent.target_q.parameters())})

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
