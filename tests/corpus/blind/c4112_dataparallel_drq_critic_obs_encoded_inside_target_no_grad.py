import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self, feat=24):
        super().__init__()
        self.convs = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(8 * 3 * 3, feat), nn.LayerNorm(feat), nn.Tanh())

    def forward(self, obs):
        return self.head(self.convs(obs).flatten(1))


class DoubleQ(nn.Module):
    def __init__(self, feat=24, act=2):
        super().__init__()
        self.q1 = nn.Sequential(nn.Linear(feat + act, 32), nn.ReLU(), nn.Linear(32, 1))
        self.q2 = nn.Sequential(nn.Linear(feat + act, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, z, a):
        za = torch.cat([z, a], -1)
        return self.q1(za).squeeze(-1), self.q2(za).squeeze(-1)


class DrQCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.q = DoubleQ()


def random_shift(obs, pad=1):
    padded = F.pad(obs, (pad,) * 4, mode="replicate")
    dx, dy = torch.randint(0, 2 * pad + 1, (2,)).tolist()
    return padded[..., dy:dy + obs.size(-2), dx:dx + obs.size(-1)]


def update_critic(critic, critic_target, policy, batch, optimizer, gamma=0.99):
    obs, action, reward, next_obs, not_done = batch
    with torch.no_grad():
        next_z = critic_target.module.encoder(random_shift(next_obs))
        next_a = policy(next_z)
        tq1, tq2 = critic_target.module.q(next_z, next_a)
        target_q = reward + not_done * gamma * torch.min(tq1, tq2)
        z = critic.module.encoder(random_shift(obs))
    q1, q2 = critic.module.q(z, action)
    loss = F.mse_loss(q1, target_q) + F.mse_loss(q2, target_q)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def soft_update(net, target, tau=0.01):
    for p, tp in zip(net.parameters(), target.parameters()):
        tp.lerp_(p, tau)


def replay(n_batches=5, b=8):
    g = torch.Generator().manual_seed(0)
    return [(torch.rand(b, 3, 11, 11, generator=g), torch.rand(b, 2, generator=g) * 2 - 1, torch.randn(b, generator=g),
             torch.rand(b, 3, 11, 11, generator=g), torch.ones(b)) for _ in range(n_batches)]


def main():
    torch.manual_seed(0)
    critic = nn.DataParallel(DrQCritic())
    critic_target = copy.deepcopy(critic)
    policy = nn.Sequential(nn.Linear(24, 2), nn.Tanh())
    optimizer = torch.optim.Adam(critic.parameters(), lr=1e-3)
    enc0 = critic.module.encoder.convs[0].weight.detach().clone()
    for batch in replay():
        update_critic(critic, critic_target, policy, batch, optimizer)
        soft_update(critic, critic_target)
    return {"critic": critic.module}, {
        "encoder_changed": not torch.equal(enc0, critic.module.encoder.convs[0].weight),
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
