import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ActorCritic(nn.Module):
    def __init__(self, obs_dim=6, n_actions=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh())
        self.policy = nn.Linear(32, n_actions)
        self.value = nn.Linear(32, 1)

    def forward(self, obs):
        h = self.body(obs)
        return torch.distributions.Categorical(logits=self.policy(h)), self.value(h).squeeze(-1)


@torch.no_grad()
def collect_rollout(model, n=64, gamma=0.95, lam=0.9):
    obs = torch.randn(n, 6)
    dist, values = model(obs)
    actions = dist.sample()
    rewards = (actions == obs[:, :3].argmax(1)).float()
    next_values = torch.cat([values[1:], values.new_zeros(1)])
    deltas = rewards + gamma * next_values - values
    adv = torch.zeros(n)
    running = 0.0
    for t in reversed(range(n)):
        running = deltas[t] + gamma * lam * running
        adv[t] = running
    returns = adv + values
    return TensorDataset(obs, actions, dist.log_prob(actions), (adv - adv.mean()) / (adv.std() + 1e-8), returns)


def ppo_epoch(model, loader, optimizer, accelerator, clip=0.2):
    for obs, actions, old_logp, adv, returns in loader:
        dist, values = model(obs)
        ratio = torch.exp(dist.log_prob(actions) - old_logp)
        pg = -torch.min(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv).mean()
        loss = pg + 0.5 * F.mse_loss(values, returns) - 0.01 * dist.entropy().mean()
        optimizer.zero_grad()
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = ActorCritic()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model, optimizer = accelerator.prepare(model, optimizer)
    p0, v0 = model.policy.weight.detach().clone(), model.value.weight.detach().clone()
    for update in range(2):
        loader = DataLoader(collect_rollout(model), batch_size=16, shuffle=True)
        for _ in range(2):
            ppo_epoch(model, loader, optimizer, accelerator)
    return {"model": model}, {
        "policy_changed": not torch.equal(p0, model.policy.weight),
        "value_changed": not torch.equal(v0, model.value.weight),
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
