import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"obs": 6, "actions": 3, "horizon": 8, "episodes": 4, "gamma": 0.95, "lr_policy": 1e-2, "lr_baseline": 1e-2,
       "updates": 3}


class ToyBandit:
    """Contextual bandit with a drifting context; action 0 pays when the first feature is positive."""

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def reset(self):
        self.obs = torch.randn(CFG["obs"], generator=self.g)
        return self.obs

    def step(self, action):
        reward = float((action == 0) == bool(self.obs[0] > 0))
        self.obs = self.obs * 0.9 + 0.1 * torch.randn(CFG["obs"], generator=self.g)
        return self.obs, reward


class ReinforceTrainer:
    def __init__(self, policy, baseline, env, cfg):
        self.policy, self.baseline, self.env, self.cfg = policy, baseline, env, cfg
        self.opt = torch.optim.Adam([
            {"params": policy.parameters(), "lr": cfg["lr_policy"]},
            {"params": baseline.parameters(), "lr": cfg["lr_baseline"]},
        ])

    def rollout(self):
        obs_buf, logp_buf, rew_buf = [], [], []
        obs = self.env.reset()
        for _ in range(self.cfg["horizon"]):
            dist = torch.distributions.Categorical(logits=self.policy(obs))
            action = dist.sample()
            obs_buf.append(obs)
            logp_buf.append(dist.log_prob(action).item())
            obs, r = self.env.step(int(action))
            rew_buf.append(r)
        return torch.stack(obs_buf), torch.tensor(logp_buf), rew_buf

    def discounted(self, rewards):
        out, run = [], 0.0
        for r in reversed(rewards):
            run = r + self.cfg["gamma"] * run
            out.append(run)
        return torch.tensor(out[::-1])

    def update(self):
        losses = []
        for _ in range(self.cfg["episodes"]):
            obs, logp, rewards = self.rollout()
            returns = self.discounted(rewards)
            values = self.baseline(obs).squeeze(-1)
            adv = returns - values.detach()
            losses.append(-(logp * adv).mean() + 0.5 * F.mse_loss(values, returns))
        loss = torch.stack(losses).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()

    def train(self):
        return [self.update() for _ in range(self.cfg["updates"])]


def main():
    torch.manual_seed(0)
    policy = nn.Sequential(nn.Linear(CFG["obs"], 32), nn.Tanh(), nn.Linear(32, CFG["actions"]))
    baseline = nn.Sequential(nn.Linear(CFG["obs"], 32), nn.Tanh(), nn.Linear(32, 1))
    p0, b0 = policy[2].weight.detach().clone(), baseline[2].weight.detach().clone()
    ReinforceTrainer(policy, baseline, ToyBandit(0), CFG).train()
    return {"policy": policy, "baseline": baseline}, {
        "policy_changed": not torch.equal(p0, policy[2].weight),
        "baseline_changed": not torch.equal(b0, baseline[2].weight),
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
