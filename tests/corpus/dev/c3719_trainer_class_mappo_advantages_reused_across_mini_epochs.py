import torch
import torch.nn as nn
from torch.distributions import Categorical


class AgentActor(nn.Module):
    def __init__(self, obs_dim=8, n_actions=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, n_actions))

    def forward(self, obs):
        return Categorical(logits=self.net(obs))


class CentralCritic(nn.Module):
    def __init__(self, state_dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(state_dim, 32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, state):
        return self.net(state).squeeze(-1)


class MAPPOLearner:
    def __init__(self, actor, critic, lr=3e-4, mini_epochs=4, clip=0.2, vf_coef=0.5):
        self.actor, self.critic = actor, critic
        self.optimizer = torch.optim.Adam(list(actor.parameters()) + list(critic.parameters()), lr=lr)
        self.mini_epochs, self.clip, self.vf_coef = mini_epochs, clip, vf_coef

    def train(self, batch):
        values = self.critic(batch["state"])
        advantages = batch["returns"] - values
        for _ in range(self.mini_epochs):
            dist = self.actor(batch["obs"])
            ratio = torch.exp(dist.log_prob(batch["actions"]) - batch["old_logp"])
            surr = torch.min(ratio * advantages, ratio.clamp(1 - self.clip, 1 + self.clip) * advantages)
            critic_loss = (self.critic(batch["state"]) - batch["returns"]).pow(2).mean()
            loss = -surr.mean() + self.vf_coef * critic_loss - 0.01 * dist.entropy().mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()


def collect_batch(actor, n=32):
    obs = torch.randn(n, 8)
    state = torch.cat([obs, torch.randn(n, 8)], dim=1)
    with torch.no_grad():
        dist = actor(obs)
        actions = dist.sample()
        old_logp = dist.log_prob(actions)
    returns = (actions == 1).float() + 0.1 * torch.randn(n)
    return {"obs": obs, "state": state, "actions": actions, "old_logp": old_logp, "returns": returns}


def main():
    torch.manual_seed(0)
    actor, critic = AgentActor(), CentralCritic()
    learner = MAPPOLearner(actor, critic)
    for _ in range(2):
        learner.train(collect_batch(actor))
    return {"actor": actor, "critic": critic}

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
