import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed


class SharedActorCritic(nn.Module):
    def __init__(self, obs_dim=4, n_actions=2):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(obs_dim, 32), nn.ReLU())
        self.actor = nn.Linear(32, n_actions)
        self.critic = nn.Linear(32, 1)

    def forward(self, obs):
        h = self.features(obs)
        return F.log_softmax(self.actor(h), -1), self.critic(h).squeeze(-1)


def n_step_returns(rewards, bootstrap, gamma=0.99):
    out, running = [], bootstrap
    for r in reversed(rewards.tolist()):
        running = r + gamma * running
        out.append(running)
    return torch.tensor(out[::-1])


def a2c_update(model, actor_opt, critic_opt, accelerator, obs, actions, rewards):
    log_probs, values = model(obs)
    returns = n_step_returns(rewards, 0.0)
    advantage = returns - values
    actor_loss = -(log_probs.gather(1, actions[:, None]).squeeze(1) * advantage.detach()).mean()
    critic_loss = advantage.pow(2).mean()
    actor_opt.zero_grad()
    accelerator.backward(actor_loss)
    actor_opt.step()
    critic_opt.zero_grad()
    accelerator.backward(critic_loss)
    critic_opt.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = SharedActorCritic()
    actor_opt = torch.optim.Adam(list(model.features.parameters()) + list(model.actor.parameters()), lr=1e-3)
    critic_opt = torch.optim.Adam(model.critic.parameters(), lr=1e-3)
    model, actor_opt, critic_opt = accelerator.prepare(model, actor_opt, critic_opt)
    for episode in range(3):
        obs = torch.randn(16, 4)
        actions = torch.randint(0, 2, (16,))
        rewards = (actions == (obs[:, 0] > 0).long()).float()
        a2c_update(model, actor_opt, critic_opt, accelerator, obs, actions, rewards)
    return {"model": model}

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
