import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PixelEncoder(nn.Module):
    def __init__(self, obs_shape=(3, 12, 12), n_filters=8):
        super().__init__()
        self.convnet = nn.Sequential(
            nn.Conv2d(obs_shape[0], n_filters, 3, stride=2), nn.ReLU(),
            nn.Conv2d(n_filters, n_filters, 3, stride=1), nn.ReLU())
        self.repr_dim = n_filters * 3 * 3

    def forward(self, obs):
        obs = obs / 255.0 - 0.5
        return self.convnet(obs).flatten(1)


class Actor(nn.Module):
    def __init__(self, repr_dim, action_dim, hidden=32):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(repr_dim, hidden), nn.LayerNorm(hidden), nn.Tanh())
        self.policy = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, action_dim))

    def forward(self, h, std):
        mu = torch.tanh(self.policy(self.trunk(h)))
        return mu, std


class Critic(nn.Module):
    def __init__(self, repr_dim, action_dim, hidden=32):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(repr_dim, hidden), nn.LayerNorm(hidden), nn.Tanh())
        self.q1 = nn.Sequential(nn.Linear(hidden + action_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.q2 = nn.Sequential(nn.Linear(hidden + action_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, h, action):
        z = torch.cat([self.trunk(h), action], dim=-1)
        return self.q1(z), self.q2(z)


def random_shift(obs, pad=2):
    n, _, h, w = obs.shape
    padded = F.pad(obs, (pad, pad, pad, pad), mode="replicate")
    dx, dy = torch.randint(0, 2 * pad + 1, (2,)).tolist()
    return padded[:, :, dy:dy + h, dx:dx + w]


class PixelDDPGAgent:
    def __init__(self, action_dim=2, lr=1e-3, tau=0.01, std=0.2, update_encoder=True):
        self.encoder = nn.DataParallel(PixelEncoder())
        repr_dim = self.encoder.module.repr_dim
        self.actor = Actor(repr_dim, action_dim)
        self.critic = Critic(repr_dim, action_dim)
        self.critic_target = copy.deepcopy(self.critic)
        self.encoder_opt = torch.optim.Adam(self.encoder.module.parameters(), lr=lr)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=lr)
        self.tau, self.std, self.update_encoder = tau, std, update_encoder

    def aug_and_encode(self, obs):
        return self.encoder(random_shift(obs.float()))

    def update_critic(self, obs, action, reward, discount, next_obs):
        with torch.no_grad():
            next_mu, std = self.actor(next_obs, self.std)
            next_action = (next_mu + std * torch.randn_like(next_mu)).clamp(-1, 1)
            tq1, tq2 = self.critic_target(next_obs, next_action)
            target_q = reward + discount * torch.min(tq1, tq2)
        q1, q2 = self.critic(obs, action)
        critic_loss = F.mse_loss(q1, target_q) + F.mse_loss(q2, target_q)
        self.encoder_opt.zero_grad(set_to_none=True)
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_opt.step()
        self.encoder_opt.step()
        return {"critic_loss": critic_loss.item()}

    def update_actor(self, obs):
        mu, _ = self.actor(obs, self.std)
        q1, q2 = self.critic(obs, mu)
        actor_loss = -torch.min(q1, q2).mean()
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_opt.step()
        return {"actor_loss": actor_loss.item()}

    def update(self, batch):
        obs, action, reward, discount, next_obs = batch
        obs = self.aug_and_encode(obs)
        with torch.no_grad():
            next_obs = self.aug_and_encode(next_obs)
        if not self.update_encoder:
            obs = obs.detach()
        metrics = self.update_critic(obs.detach(), action, reward, discount, next_obs.detach())
        metrics.update(self.update_actor(obs.detach()))
        with torch.no_grad():
            for p, tp in zip(self.critic.parameters(), self.critic_target.parameters()):
                tp.lerp_(p, self.tau)
        return metrics


def main():
    torch.manual_seed(0)
    n = 32
    replay = TensorDataset(torch.randint(0, 256, (n, 3, 12, 12), dtype=torch.uint8), torch.rand(n, 2) * 2 - 1,
                           torch.randn(n, 1), torch.full((n, 1), 0.99),
                           torch.randint(0, 256, (n, 3, 12, 12), dtype=torch.uint8))
    agent = PixelDDPGAgent(update_encoder=True)
    enc0 = agent.encoder.module.convnet[0].weight.detach().clone()
    critic0 = agent.critic.trunk[0].weight.detach().clone()
    for batch in DataLoader(replay, batch_size=8, shuffle=True):
        agent.update(batch)
    return ({"encoder": agent.encoder.module, "critic": agent.critic, "actor": agent.actor},
            {"encoder_changed": not torch.equal(enc0, agent.encoder.module.convnet[0].weight),
             "critic_changed": not torch.equal(critic0, agent.critic.trunk[0].weight)})

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
