import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self, obs_dim=12, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, obs):
        return self.net(obs)


class Critic(nn.Module):
    def __init__(self, dim=16, act_dim=3):
        super().__init__()
        self.q = nn.Sequential(nn.Linear(dim + act_dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, h, action):
        return self.q(torch.cat([h, action], dim=-1))


class ICM(nn.Module):
    def __init__(self, dim=16, act_dim=3):
        super().__init__()
        self.forward_net = nn.Sequential(nn.Linear(dim + act_dim, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, h, action, next_h):
        return (self.forward_net(torch.cat([h, action], -1)) - next_h).pow(2).mean()


class Agent:
    def __init__(self, reward_free, lr=1e-3):
        self.reward_free = reward_free
        self.encoder, self.critic, self.icm = Encoder(), Critic(), ICM()
        self.encoder_opt = torch.optim.Adam(self.encoder.parameters(), lr=lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=lr)
        self.icm_opt = torch.optim.Adam(self.icm.parameters(), lr=lr)

    def update_icm(self, h, action, next_h):
        loss = self.icm(h, action, next_h)
        self.icm_opt.zero_grad(set_to_none=True)
        self.encoder_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.icm_opt.step()
        self.encoder_opt.step()

    def update_critic(self, h, action, reward, next_h, discount=0.99):
        with torch.no_grad():
            target = reward + discount * self.critic(next_h, torch.zeros_like(action))
        loss = F.mse_loss(self.critic(h, action), target)
        self.critic_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.critic_opt.step()

    def update(self, batch):
        obs, action, reward, next_obs = batch
        h = self.encoder(obs)
        with torch.no_grad():
            next_h = self.encoder(next_obs)
        if self.reward_free:
            self.update_icm(h, action, next_h)
            h = h.detach()
        self.update_critic(h, action, reward, next_h)


def sample_batch(g, n=32):
    obs = torch.randn(n, 12, generator=g)
    action = torch.rand(n, 3, generator=g) * 2 - 1
    next_obs = obs + 0.1 * torch.randn(n, 12, generator=g)
    reward = (obs[:, :1] * action[:, :1]).tanh()
    return obs, action, reward, next_obs


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    agent = Agent(reward_free=False)  # fine-tuning phase on the extrinsic reward
    w0 = agent.encoder.net[0].weight.detach().clone()
    for _ in range(4):
        agent.update(sample_batch(g))
    return {"encoder": agent.encoder, "critic": agent.critic}, {
        "encoder_changed": not torch.equal(w0, agent.encoder.net[0].weight)}

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
