import torch
import torch.nn as nn
from torch.distributions import Normal
from torch.utils.data import DataLoader, TensorDataset


class GaussianPolicy(nn.Module):
    def __init__(self, obs_dim=8, act_dim=2, hidden=64, init_log_std=-0.5):
        super().__init__()
        self.mu = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                nn.Linear(hidden, act_dim))
        self.log_std = torch.zeros(act_dim, requires_grad=True) + init_log_std

    def dist(self, obs):
        return Normal(self.mu(obs), self.log_std.exp().expand(obs.size(0), -1))


class ValueNet(nn.Module):
    def __init__(self, obs_dim=8, hidden=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, obs):
        return self.net(obs).squeeze(-1)


def rollout_batch(n=128, obs_dim=8, act_dim=2):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, obs_dim, generator=g)
    actions = torch.randn(n, act_dim, generator=g) * 0.6
    returns = -(actions - obs[:, :act_dim]).pow(2).sum(-1)
    old_logp = Normal(torch.zeros(n, act_dim), 0.6).log_prob(actions).sum(-1)
    return TensorDataset(obs, actions, returns, old_logp)


def train(policy, value_fn, loader, optimizer, epochs=2, clip=0.2, ent_coef=0.01):
    for epoch in range(epochs):
        for obs, actions, returns, old_logp in loader:
            dist = policy.dist(obs)
            logp = dist.log_prob(actions).sum(-1)
            adv = returns - value_fn(obs).detach()
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            ratio = (logp - old_logp).exp()
            pg = -torch.min(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv).mean()
            v_loss = (value_fn(obs) - returns).pow(2).mean()
            loss = pg + 0.5 * v_loss - ent_coef * dist.entropy().sum(-1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    policy, value_fn = GaussianPolicy(), ValueNet()
    params = list(policy.parameters()) + [policy.log_std] + list(value_fn.parameters())
    optimizer = torch.optim.Adam(params, lr=3e-4)
    loader = DataLoader(rollout_batch(), batch_size=32, shuffle=True)
    std0 = policy.log_std.detach().clone()
    train(policy, value_fn, loader, optimizer)
    return {"policy": policy, "value": value_fn}, {"log_std_changed": not torch.equal(std0, policy.log_std)}

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
