import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"obs_dim": 10, "act_dim": 2, "latent": 16, "horizon": 5, "gamma": 0.95, "wm_lr": 1e-3, "actor_lr": 3e-4}


class WorldModel(nn.Module):
    def __init__(self, obs_dim, act_dim, latent):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(obs_dim, latent), nn.ELU())
        self.dynamics = nn.GRUCell(act_dim, latent)
        self.reward = nn.Linear(latent, 1)
        self.decoder = nn.Linear(latent, obs_dim)

    def observe(self, obs, act):
        h = self.encoder(obs[:, 0])
        states = [h]
        for t in range(act.shape[1] - 1):
            h = self.dynamics(act[:, t], h)
            states.append(h)
        return torch.stack(states, 1)


class Actor(nn.Module):
    def __init__(self, latent, act_dim):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, 32), nn.ELU(), nn.Linear(32, act_dim))

    def forward(self, h):
        return torch.tanh(self.net(h))


@torch.no_grad()
def imagine(world_model, actor, start, horizon):
    """Roll the learned dynamics forward under the current policy and collect predicted rewards."""
    h, rewards = start, []
    for _ in range(horizon):
        h = world_model.dynamics(actor(h), h)
        rewards.append(world_model.reward(h))
    return torch.cat(rewards, -1)


def discounted(rewards, gamma):
    weights = gamma ** torch.arange(rewards.shape[-1], dtype=rewards.dtype)
    return (rewards * weights).sum(-1)


class DreamerAgent(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.world_model = WorldModel(cfg["obs_dim"], cfg["act_dim"], cfg["latent"])
        self.actor = Actor(cfg["latent"], cfg["act_dim"])

    def training_step(self, batch, batch_idx):
        obs, act, rew = batch
        wm_opt, actor_opt = self.optimizers()
        states = self.world_model.observe(obs, act)
        wm_loss = F.mse_loss(self.world_model.decoder(states), obs) + F.mse_loss(self.world_model.reward(states).squeeze(-1), rew)
        wm_opt.zero_grad()
        self.manual_backward(wm_loss)
        wm_opt.step()

        start = states.detach().reshape(-1, self.cfg["latent"])
        returns = discounted(imagine(self.world_model, self.actor, start, self.cfg["horizon"]), self.cfg["gamma"])
        actor_loss = -returns.mean()
        actor_opt.zero_grad()
        self.manual_backward(actor_loss)
        actor_opt.step()
        self.log_dict({"wm_loss": wm_loss.item(), "actor_loss": actor_loss.item()})

    def configure_optimizers(self):
        return [torch.optim.Adam(self.world_model.parameters(), lr=self.cfg["wm_lr"]),
                torch.optim.Adam(self.actor.parameters(), lr=self.cfg["actor_lr"])]


def replay_loader(cfg, n=32, T=6):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, T, cfg["obs_dim"], generator=g)
    act = torch.rand(n, T, cfg["act_dim"], generator=g) * 2 - 1
    rew = obs[..., 0] * act[..., 0]
    return DataLoader(TensorDataset(obs, act, rew), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    agent = DreamerAgent(CFG)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(agent, replay_loader(CFG))
    return {"agent": agent}

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
