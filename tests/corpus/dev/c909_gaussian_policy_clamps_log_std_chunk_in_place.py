import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal
from torch.utils.data import DataLoader, TensorDataset


class GaussianPolicy(nn.Module):
    def __init__(self, obs_dim=8, act_dim=2, hidden=64, log_std_min=-5.0, log_std_max=1.0):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, 2 * act_dim)
        self.log_std_min, self.log_std_max = log_std_min, log_std_max

    def forward(self, obs):
        mean, log_std = self.head(self.trunk(obs)).chunk(2, dim=-1)
        log_std.clamp_(self.log_std_min, self.log_std_max)
        return Normal(mean, log_std.exp())


class ValueNet(nn.Module):
    def __init__(self, obs_dim=8, hidden=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, obs):
        return self.net(obs).squeeze(-1)


def make_batches(n=128, obs_dim=8, act_dim=2):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, obs_dim, generator=g)
    actions = torch.tanh(torch.randn(n, act_dim, generator=g))
    returns = -(actions - obs[:, :act_dim].tanh()).pow(2).sum(-1)
    return DataLoader(TensorDataset(obs, actions, returns), batch_size=32, shuffle=True, generator=g)


def train(policy, value_fn, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for obs, actions, returns in loader:
            dist = policy(obs)
            values = value_fn(obs)
            adv = (returns - values).detach()
            policy_loss = -(dist.log_prob(actions).sum(-1) * adv).mean()
            loss = policy_loss + 0.5 * F.mse_loss(values, returns)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    policy, value_fn = GaussianPolicy(), ValueNet()
    optimizer = torch.optim.Adam(list(policy.parameters()) + list(value_fn.parameters()), lr=3e-4)
    train(policy, value_fn, make_batches(), optimizer)
    return {"policy": policy, "value_fn": value_fn}

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
