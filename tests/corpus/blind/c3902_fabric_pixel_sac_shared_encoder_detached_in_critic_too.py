import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class PixelEncoder(nn.Module):
    def __init__(self, feat=16):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU(), nn.Flatten())
        self.fc = nn.Linear(8 * 3 * 3, feat)
        self.ln = nn.LayerNorm(feat)

    def forward(self, obs, detach=False):
        h = self.conv(obs)
        if detach:
            h = h.detach()
        return torch.tanh(self.ln(self.fc(h)))


class Critic(nn.Module):
    def __init__(self, encoder, act_dim=2, feat=16):
        super().__init__()
        self.encoder = encoder
        self.q = nn.Sequential(nn.Linear(feat + act_dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, obs, action, detach_encoder=False):
        z = self.encoder(obs, detach=detach_encoder)
        return self.q(torch.cat([z, action], -1)).squeeze(-1)


class Actor(nn.Module):
    def __init__(self, encoder, act_dim=2, feat=16):
        super().__init__()
        self.encoder = encoder
        self.pi = nn.Sequential(nn.Linear(feat, 32), nn.ReLU(), nn.Linear(32, act_dim), nn.Tanh())

    def forward(self, obs):
        return self.pi(self.encoder(obs, detach=True))


def update(critic, actor, critic_opt, actor_opt, batch, fabric, gamma=0.99):
    obs, action, reward, next_obs = batch
    with torch.no_grad():
        target = reward + gamma * critic(next_obs, actor(next_obs))
    critic_loss = F.mse_loss(critic(obs, action, detach_encoder=True), target)
    critic_opt.zero_grad()
    fabric.backward(critic_loss)
    critic_opt.step()
    actor_loss = -critic(obs, actor(obs), detach_encoder=True).mean()
    actor_opt.zero_grad()
    fabric.backward(actor_loss)
    actor_opt.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    encoder = PixelEncoder()
    critic, actor = Critic(encoder), Actor(encoder)
    critic_opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    actor_opt = torch.optim.Adam(actor.pi.parameters(), lr=1e-3)
    critic, critic_opt = fabric.setup(critic, critic_opt)
    actor, actor_opt = fabric.setup(actor, actor_opt)
    data = TensorDataset(torch.rand(32, 3, 11, 11), torch.rand(32, 2) * 2 - 1, torch.randn(32), torch.rand(32, 3, 11, 11))
    loader = fabric.setup_dataloaders(DataLoader(data, batch_size=8, shuffle=True))
    conv0 = encoder.conv[0].weight.detach().clone()
    q0 = critic.q[0].weight.detach().clone()
    for batch in loader:
        update(critic, actor, critic_opt, actor_opt, batch, fabric)
    return {"critic": critic.module, "actor_head": actor.module.pi}, {
        "encoder_conv_changed": not torch.equal(conv0, encoder.conv[0].weight),
        "q_head_changed": not torch.equal(q0, critic.q[0].weight),
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
