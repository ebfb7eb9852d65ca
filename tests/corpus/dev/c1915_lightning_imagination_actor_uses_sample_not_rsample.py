import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Independent, Normal
from torch.utils.data import DataLoader, TensorDataset


class LatentDynamics(nn.Module):
    """Learned world model: z_{t+1} = f(z_t, a_t), reward r(z)."""

    def __init__(self, z_dim=8, a_dim=2):
        super().__init__()
        self.transition = nn.Sequential(nn.Linear(z_dim + a_dim, 32), nn.ELU(), nn.Linear(32, z_dim))
        self.reward = nn.Sequential(nn.Linear(z_dim, 32), nn.ELU(), nn.Linear(32, 1))

    def step(self, z, a):
        return z + self.transition(torch.cat([z, a], dim=-1))


class Actor(nn.Module):
    def __init__(self, z_dim=8, a_dim=2):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(z_dim, 32), nn.ELU())
        self.mean = nn.Linear(32, a_dim)
        self.log_std = nn.Linear(32, a_dim)

    def forward(self, z):
        h = self.trunk(z)
        std = F.softplus(self.log_std(h)) + 1e-3
        return Independent(Normal(torch.tanh(self.mean(h)), std), 1)


class Critic(nn.Module):
    def __init__(self, z_dim=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, 32), nn.ELU(), nn.Linear(32, 1))

    def forward(self, z):
        return self.net(z)


class ImaginationAgent(pl.LightningModule):
    def __init__(self, horizon=5, gamma=0.95):
        super().__init__()
        self.automatic_optimization = False
        self.world = LatentDynamics()
        self.actor = Actor()
        self.critic = Critic()
        self.horizon, self.gamma = horizon, gamma

    def imagine(self, start):
        z, rewards, states = start, [], []
        for _ in range(self.horizon):
            action = self.actor(z).sample()
            z = self.world.step(z, action)
            states.append(z)
            rewards.append(self.world.reward(z))
        return torch.stack(states), torch.stack(rewards)

    def lambda_returns(self, states, rewards):
        ret = self.critic(states[-1])
        out = []
        for t in reversed(range(self.horizon)):
            ret = rewards[t] + self.gamma * ret
            out.append(ret)
        return torch.stack(out[::-1])

    def training_step(self, batch, batch_idx):
        (start,) = batch
        actor_opt, critic_opt = self.optimizers()
        self.world.requires_grad_(False)  # the world model is trained in its own phase
        states, rewards = self.imagine(start)
        returns = self.lambda_returns(states, rewards)
        actor_loss = -returns.mean()
        actor_opt.zero_grad()
        self.manual_backward(actor_loss)
        actor_opt.step()
        critic_loss = F.mse_loss(self.critic(states.detach()), returns.detach())
        critic_opt.zero_grad()
        self.manual_backward(critic_loss)
        critic_opt.step()
        self.world.requires_grad_(True)
        self.log_dict({"actor_loss": actor_loss.item(), "critic_loss": critic_loss.item()})

    def configure_optimizers(self):
        return [torch.optim.Adam(self.actor.parameters(), lr=8e-5), torch.optim.Adam(self.critic.parameters(), lr=8e-5)]


def main():
    pl.seed_everything(0)
    starts = torch.randn(32, 8)
    loader = DataLoader(TensorDataset(starts), batch_size=8, shuffle=True)
    agent = ImaginationAgent()
    w0 = agent.actor.mean.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(agent, loader)
    return {"actor": agent.actor, "critic": agent.critic}, {"actor_changed": not torch.equal(w0, agent.actor.mean.weight)}

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
