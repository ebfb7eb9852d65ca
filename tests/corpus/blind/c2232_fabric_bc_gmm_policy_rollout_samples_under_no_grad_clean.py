import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal
from torch.utils.data import DataLoader, TensorDataset


class GMMPolicy(nn.Module):
    def __init__(self, obs_dim=10, act_dim=3, modes=4, hidden=64):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.mean = nn.Linear(hidden, modes * act_dim)
        self.scale = nn.Linear(hidden, modes * act_dim)
        self.logits = nn.Linear(hidden, modes)
        self.modes, self.act_dim = modes, act_dim

    def forward_train(self, obs):
        h = self.trunk(obs)
        means = torch.tanh(self.mean(h)).view(-1, self.modes, self.act_dim)
        scales = (F.softplus(self.scale(h)) + 1e-4).view(-1, self.modes, self.act_dim)
        component = Independent(Normal(means, scales), 1)
        return MixtureSameFamily(Categorical(logits=self.logits(h)), component)

    @torch.no_grad()
    def get_action(self, obs):
        return self.forward_train(obs).sample()


def rollout(policy, steps=5, obs_dim=10):
    obs, actions = torch.randn(1, obs_dim), []
    for _ in range(steps):
        act = policy.get_action(obs)
        actions.append(act)
        obs = torch.roll(obs, 1, dims=1) + 0.1 * torch.cat([act, torch.zeros(1, obs_dim - act.size(1))], dim=1)
    return torch.cat(actions)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    obs, acts = torch.randn(32, 10), torch.tanh(torch.randn(32, 3))
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(obs, acts), batch_size=8, shuffle=True))
    net = GMMPolicy()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    policy, optimizer = fabric.setup(net, optimizer)
    w0 = net.mean.weight.detach().clone()
    for epoch in range(2):
        for o, a in loader:
            dist = net.forward_train(o)
            loss = -dist.log_prob(a).mean()
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
        actions = rollout(net)
    return ({"policy": net},
            {"policy_changed": not torch.equal(w0, net.mean.weight), "rollout_requires_grad": actions.requires_grad})

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
