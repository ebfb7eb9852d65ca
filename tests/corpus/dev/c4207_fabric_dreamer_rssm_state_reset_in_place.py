import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class RSSM(nn.Module):
    def __init__(self, obs_dim, act_dim, deter, stoch):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(obs_dim, 32), nn.ELU(), nn.Linear(32, 16))
        self.cell = nn.GRUCell(stoch + act_dim, deter)
        self.prior = nn.Linear(deter, 2 * stoch)
        self.posterior = nn.Linear(deter + 16, 2 * stoch)
        self.deter, self.stoch = deter, stoch

    def initial(self, batch):
        return torch.zeros(batch, self.deter), torch.zeros(batch, self.stoch)

    def step(self, h, z, action, embed):
        h = torch.tanh(self.cell(torch.cat([z, action], -1), h))
        prior_mean, prior_std = self.prior(h).chunk(2, -1)
        post_mean, post_std = self.posterior(torch.cat([h, embed], -1)).chunk(2, -1)
        prior = torch.distributions.Normal(prior_mean, F.softplus(prior_std) + 0.1)
        post = torch.distributions.Normal(post_mean, F.softplus(post_std) + 0.1)
        return h, post.rsample(), prior, post


class WorldModel(nn.Module):
    def __init__(self, obs_dim=6, act_dim=2, deter=16, stoch=4):
        super().__init__()
        self.rssm = RSSM(obs_dim, act_dim, deter, stoch)
        self.decoder = nn.Sequential(nn.Linear(deter + stoch, 32), nn.ELU(), nn.Linear(32, obs_dim))
        self.reward_head = nn.Linear(deter + stoch, 1)


def reset_on_episode_start(h, z, is_first):
    keep = (1.0 - is_first).unsqueeze(-1)
    h.mul_(keep)
    z = z * keep
    return h, z


def observe(wm, obs, actions, is_first):
    batch, horizon = obs.shape[:2]
    h, z = wm.rssm.initial(batch)
    embeds = wm.rssm.encoder(obs)
    feats, kls = [], []
    for t in range(horizon):
        h, z = reset_on_episode_start(h, z, is_first[:, t])
        h, z, prior, post = wm.rssm.step(h, z, actions[:, t], embeds[:, t])
        kls.append(torch.distributions.kl_divergence(post, prior).sum(-1).clamp(min=1.0))
        feats.append(torch.cat([h, z], -1))
    return torch.stack(feats, 1), torch.stack(kls, 1)


def world_model_loss(wm, batch, kl_scale):
    obs, actions, rewards, is_first = batch
    feats, kl = observe(wm, obs, actions, is_first)
    recon = F.mse_loss(wm.decoder(feats), obs)
    reward = F.mse_loss(wm.reward_head(feats).squeeze(-1), rewards)
    return recon + reward + kl_scale * kl.mean()


def replay_loader(n=8, horizon=5, obs_dim=6, act_dim=2):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, horizon, obs_dim, generator=g)
    actions = torch.randn(n, horizon, act_dim, generator=g).tanh()
    rewards = obs[..., 0] * 0.5
    is_first = torch.zeros(n, horizon)
    is_first[:, 0] = 1.0
    is_first[::2, 3] = 1.0
    return DataLoader(TensorDataset(obs, actions, rewards, is_first), batch_size=4)


def train(fabric, wm, optimizer, loader, cfg):
    for _ in range(cfg["epochs"]):
        for batch in loader:
            loss = world_model_loss(wm, batch, cfg["kl_scale"])
            optimizer.zero_grad()
            fabric.backward(loss)
            fabric.clip_gradients(wm, optimizer, max_norm=cfg["grad_clip"])
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    wm = WorldModel()
    optimizer = torch.optim.Adam(wm.parameters(), lr=3e-4, eps=1e-5)
    wm, optimizer = fabric.setup(wm, optimizer)
    loader = fabric.setup_dataloaders(replay_loader())
    cell0 = wm.rssm.cell.weight_ih.detach().clone()
    train(fabric, wm, optimizer, loader, {"epochs": 2, "kl_scale": 1.0, "grad_clip": 100.0})
    return {"wm": wm.module}, {"rssm_changed": not torch.equal(cell0, wm.rssm.cell.weight_ih)}

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
