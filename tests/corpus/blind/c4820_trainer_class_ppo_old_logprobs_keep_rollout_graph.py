import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"obs_dim": 4, "n_actions": 3, "hidden": 32, "horizon": 32, "ppo_epochs": 3, "clip": 0.2, "gamma": 0.95,
       "vf_coef": 0.5, "lr": 3e-4}


class ActorCritic(nn.Module):
    def __init__(self, obs_dim, n_actions, hidden):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh())
        self.pi = nn.Linear(hidden, n_actions)
        self.v = nn.Linear(hidden, 1)

    def forward(self, obs):
        h = self.body(obs)
        return torch.distributions.Categorical(logits=self.pi(h)), self.v(h).squeeze(-1)


class ToyEnv:
    def __init__(self, obs_dim, seed=0):
        self.g = torch.Generator().manual_seed(seed)
        self.obs_dim = obs_dim

    def reset(self):
        self.state = torch.randn(self.obs_dim, generator=self.g)
        return self.state

    def step(self, action):
        reward = float(action == int(self.state[0] > 0) + int(self.state[1] > 0))
        self.state = torch.randn(self.obs_dim, generator=self.g)
        return self.state, reward


class PPOTrainer:
    def __init__(self, cfg):
        self.cfg = cfg
        self.model = ActorCritic(cfg["obs_dim"], cfg["n_actions"], cfg["hidden"])
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg["lr"])
        self.env = ToyEnv(cfg["obs_dim"])

    def collect(self):
        obs_buf, act_buf, logp_buf, rew_buf, val_buf = [], [], [], [], []
        obs = self.env.reset()
        for _ in range(self.cfg["horizon"]):
            dist, value = self.model(obs)
            action = dist.sample()
            obs_buf.append(obs)
            act_buf.append(action)
            logp_buf.append(dist.log_prob(action))
            val_buf.append(value.detach())
            obs, reward = self.env.step(int(action))
            rew_buf.append(reward)
        returns, ret = [], 0.0
        for r in reversed(rew_buf):
            ret = r + self.cfg["gamma"] * ret
            returns.insert(0, ret)
        returns = torch.tensor(returns)
        values = torch.stack(val_buf)
        adv = returns - values
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        return torch.stack(obs_buf), torch.stack(act_buf), torch.stack(logp_buf), returns, adv

    def update(self, batch):
        obs, actions, old_logp, returns, adv = batch
        for _ in range(self.cfg["ppo_epochs"]):
            dist, values = self.model(obs)
            ratio = torch.exp(dist.log_prob(actions) - old_logp)
            pg = -torch.min(ratio * adv, ratio.clamp(1 - self.cfg["clip"], 1 + self.cfg["clip"]) * adv).mean()
            loss = pg + self.cfg["vf_coef"] * F.mse_loss(values, returns) - 0.01 * dist.entropy().mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()

    def train(self, iterations=2):
        for _ in range(iterations):
            self.update(self.collect())


def main():
    torch.manual_seed(0)
    trainer = PPOTrainer(CFG)
    trainer.train()
    return {"model": trainer.model}

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
