import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class PixelEncoder(nn.Module):
    def __init__(self, feat=32):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU())
        self.fc = nn.Linear(8 * 4 * 4, feat)
        self.ln = nn.LayerNorm(feat)

    def forward(self, obs, detach=False):
        h = self.conv(obs).flatten(1)
        if detach:
            h = h.detach()
        return torch.tanh(self.ln(self.fc(h)))


class Actor(nn.Module):
    def __init__(self, feat=32, act_dim=2):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(feat, 64), nn.ReLU(), nn.Linear(64, 2 * act_dim))

    def forward(self, z):
        mu, log_std = self.trunk(z).chunk(2, -1)
        std = log_std.clamp(-5, 2).exp()
        return torch.tanh(mu + std * torch.randn_like(mu))


class Critic(nn.Module):
    def __init__(self, feat=32, act_dim=2):
        super().__init__()
        self.q = nn.Sequential(nn.Linear(feat + act_dim, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, z, a):
        return self.q(torch.cat([z, a], -1)).squeeze(-1)


class RADAgent(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.automatic_optimization = False
        self.encoder, self.actor, self.critic = PixelEncoder(), Actor(), Critic()
        self.cfg = cfg

    def training_step(self, batch, batch_idx):
        critic_opt, actor_opt = self.optimizers()
        obs, action, reward, next_obs = batch
        with torch.no_grad():
            next_z = self.encoder(next_obs)
            target_q = reward + self.cfg["gamma"] * self.critic(next_z, self.actor(next_z))
        critic_loss = F.mse_loss(self.critic(self.encoder(obs), action), target_q)
        critic_opt.zero_grad()
        self.manual_backward(critic_loss)
        critic_opt.step()

        z = self.encoder(obs, detach=True)
        actor_loss = -self.critic(z, self.actor(z)).mean()
        actor_opt.zero_grad()
        self.manual_backward(actor_loss)
        actor_opt.step()
        self.log_dict({"critic_loss": critic_loss.item(), "actor_loss": actor_loss.item()})

    def configure_optimizers(self):
        critic_params = list(self.encoder.parameters()) + list(self.critic.parameters())
        return [torch.optim.Adam(critic_params, lr=self.cfg["critic_lr"]),
                torch.optim.Adam(self.actor.parameters(), lr=self.cfg["actor_lr"])]


def replay_loader(n=32):
    g = torch.Generator().manual_seed(0)
    obs, next_obs = torch.rand(n, 3, 13, 13, generator=g), torch.rand(n, 3, 13, 13, generator=g)
    action, reward = torch.rand(n, 2, generator=g) * 2 - 1, torch.randn(n, generator=g)
    return DataLoader(TensorDataset(obs, action, reward, next_obs), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    agent = RADAgent({"gamma": 0.99, "critic_lr": 1e-3, "actor_lr": 1e-3})
    enc0 = agent.encoder.conv[0].weight.detach().clone()
    act0 = agent.actor.trunk[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(agent, replay_loader())
    return {"agent": agent}, {
        "encoder_changed": not torch.equal(enc0, agent.encoder.conv[0].weight),
        "actor_changed": not torch.equal(act0, agent.actor.trunk[0].weight),
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
