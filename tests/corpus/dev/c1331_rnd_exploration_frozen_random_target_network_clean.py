import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(inp, out, hidden=32):
    return nn.Sequential(nn.Linear(inp, hidden), nn.ReLU(), nn.Linear(hidden, out))


class RNDModule(nn.Module):
    def __init__(self, obs_dim=6, feat_dim=8):
        super().__init__()
        self.target = mlp(obs_dim, feat_dim)
        self.predictor = mlp(obs_dim, feat_dim)
        self.target.requires_grad_(False)

    def forward(self, obs):
        with torch.no_grad():
            target_feat = self.target(obs)
        return (self.predictor(obs) - target_feat).pow(2).mean(-1)


class Policy(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3):
        super().__init__()
        self.net = mlp(obs_dim, n_actions)

    def forward(self, obs):
        return torch.distributions.Categorical(logits=self.net(obs))


def rollout(policy, n=32, obs_dim=6):
    obs = torch.randn(n, obs_dim)
    dist = policy(obs)
    actions = dist.sample()
    next_obs = obs + 0.1 * F.one_hot(actions, obs_dim).float()
    return obs, dist.log_prob(actions), next_obs


def train(policy, rnd, steps=15):
    pol_opt = torch.optim.Adam(policy.parameters(), lr=1e-3)
    rnd_opt = torch.optim.Adam(rnd.predictor.parameters(), lr=1e-3)
    for _ in range(steps):
        obs, log_probs, next_obs = rollout(policy)
        novelty = rnd(next_obs)
        intrinsic = novelty.detach()
        advantage = (intrinsic - intrinsic.mean()) / (intrinsic.std() + 1e-6)
        pol_opt.zero_grad()
        (-(log_probs * advantage).mean()).backward()
        pol_opt.step()
        rnd_opt.zero_grad()
        novelty.mean().backward()
        rnd_opt.step()


def main():
    torch.manual_seed(0)
    policy, rnd = Policy(), RNDModule()
    tgt0 = rnd.target[0].weight.detach().clone()
    pred0 = rnd.predictor[0].weight.detach().clone()
    train(policy, rnd)
    facts = {"predictor_changed": not torch.equal(pred0, rnd.predictor[0].weight),
             "target_changed": not torch.equal(tgt0, rnd.target[0].weight)}
    return {"policy": policy, "rnd": rnd}, facts

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
