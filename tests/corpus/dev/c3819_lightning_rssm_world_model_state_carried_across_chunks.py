import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, Dataset


class RSSM(nn.Module):
    """Recurrent state-space model: deterministic GRU path plus a Gaussian stochastic state."""

    def __init__(self, obs_dim=8, act_dim=2, deter=16, stoch=4, embed=16):
        super().__init__()
        self.deter, self.stoch = deter, stoch
        self.encoder = nn.Sequential(nn.Linear(obs_dim, embed), nn.ELU())
        self.cell = nn.GRUCell(stoch + act_dim, deter)
        self.prior_net = nn.Linear(deter, 2 * stoch)
        self.post_net = nn.Linear(deter + embed, 2 * stoch)

    def initial(self, batch):
        return torch.zeros(batch, self.deter), torch.zeros(batch, self.stoch)

    def observe(self, obs, actions, state):
        h, z = state
        feats, kls = [], []
        embeds = self.encoder(obs)
        for t in range(obs.shape[1]):
            h = self.cell(torch.cat([z, actions[:, t]], -1), h)
            prior_mean, prior_std = self.prior_net(h).chunk(2, -1)
            post_mean, post_std = self.post_net(torch.cat([h, embeds[:, t]], -1)).chunk(2, -1)
            prior = torch.distributions.Normal(prior_mean, F.softplus(prior_std) + 0.1)
            post = torch.distributions.Normal(post_mean, F.softplus(post_std) + 0.1)
            z = post.rsample()
            feats.append(torch.cat([h, z], -1))
            kls.append(torch.distributions.kl_divergence(post, prior).sum(-1))
        return torch.stack(feats, 1), torch.stack(kls, 1), (h, z)


class WorldModel(pl.LightningModule):
    def __init__(self, obs_dim=8, lr=3e-3):
        super().__init__()
        self.rssm = RSSM(obs_dim=obs_dim)
        self.decoder = nn.Sequential(nn.Linear(20, 32), nn.ELU(), nn.Linear(32, obs_dim))
        self.reward_head = nn.Linear(20, 1)
        self.lr = lr
        self._state = None

    def on_train_epoch_start(self):
        self._state = None

    def training_step(self, batch, batch_idx):
        obs, actions, rewards = batch
        if self._state is None:
            self._state = self.rssm.initial(obs.shape[0])
        feats, kl, last_state = self.rssm.observe(obs, actions, self._state)
        self._state = last_state
        recon = F.mse_loss(self.decoder(feats), obs)
        reward = F.mse_loss(self.reward_head(feats).squeeze(-1), rewards)
        loss = recon + reward + 0.1 * kl.mean()
        self.log("wm_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


class EpisodeChunks(Dataset):
    """Consecutive chunks of the same batch of episodes (truncated backprop through time)."""

    def __init__(self, n_envs=4, length=24, chunk=6, obs_dim=8):
        g = torch.Generator().manual_seed(0)
        self.actions = torch.randn(n_envs, length, 2, generator=g)
        pos = torch.cumsum(0.1 * self.actions, dim=1)
        self.obs = torch.cat([pos, torch.sin(pos), torch.cos(pos), pos ** 2], -1)[..., :obs_dim]
        self.rewards = -pos.norm(dim=-1)
        self.chunk = chunk

    def __len__(self):
        return self.obs.shape[1] // self.chunk

    def __getitem__(self, i):
        s = slice(i * self.chunk, (i + 1) * self.chunk)
        return self.obs[:, s], self.actions[:, s], self.rewards[:, s]


def main():
    pl.seed_everything(0)
    model = WorldModel()
    loader = DataLoader(EpisodeChunks(), batch_size=None, shuffle=False)
    enc0 = model.rssm.encoder[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"encoder_changed": not torch.equal(enc0, model.rssm.encoder[0].weight)}

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
