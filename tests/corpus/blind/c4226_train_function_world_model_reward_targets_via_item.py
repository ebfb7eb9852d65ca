import torch
import torch.nn as nn
import torch.nn.functional as F


class WorldModel(nn.Module):
    def __init__(self, obs_dim=6, act_dim=2, latent=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(obs_dim, 32), nn.ELU(), nn.Linear(32, latent))
        self.dynamics = nn.GRUCell(latent + act_dim, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, 32), nn.ELU(), nn.Linear(32, obs_dim))
        self.reward_head = nn.Sequential(nn.Linear(latent, 16), nn.ELU(), nn.Linear(16, 1))
        self.continue_head = nn.Linear(latent, 1)


def rollout_predictions(wm, obs, actions):
    h = wm.encoder(obs[:, 0])
    recon, rewards, conts = [], [], []
    for t in range(obs.size(1)):
        recon.append(wm.decoder(h))
        rewards.append([r.item() for r in wm.reward_head(h).squeeze(-1)])
        conts.append(wm.continue_head(h).squeeze(-1))
        h = wm.dynamics(torch.cat([wm.encoder(obs[:, t]), actions[:, t]], -1), h)
    return torch.stack(recon, 1), torch.tensor(rewards).t(), torch.stack(conts, 1)


def world_model_loss(wm, batch, cfg):
    obs, actions, rewards, dones = batch
    recon, pred_rewards, cont_logits = rollout_predictions(wm, obs, actions)
    loss = F.mse_loss(recon, obs)
    loss = loss + cfg["reward_scale"] * F.mse_loss(pred_rewards, rewards)
    loss = loss + cfg["cont_scale"] * F.binary_cross_entropy_with_logits(cont_logits, 1.0 - dones)
    return loss


def sample_replay(generator, batch=8, horizon=5, obs_dim=6, act_dim=2):
    obs = torch.randn(batch, horizon, obs_dim, generator=generator)
    actions = torch.randn(batch, horizon, act_dim, generator=generator).tanh()
    rewards = obs[..., 0] - 0.5 * actions[..., 1]
    dones = (torch.rand(batch, horizon, generator=generator) < 0.1).float()
    return obs, actions, rewards, dones


def train(wm, cfg):
    g = torch.Generator().manual_seed(0)
    optimizer = torch.optim.Adam(wm.parameters(), lr=cfg["lr"], eps=1e-5)
    losses = []
    for _ in range(cfg["updates"]):
        loss = world_model_loss(wm, sample_replay(g), cfg)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(wm.parameters(), cfg["grad_clip"])
        optimizer.step()
        losses.append(loss.item())
    return losses


def main():
    torch.manual_seed(0)
    wm = WorldModel()
    r0 = wm.reward_head[0].weight.detach().clone()
    d0 = wm.decoder[0].weight.detach().clone()
    losses = train(wm, {"lr": 1e-3, "updates": 6, "reward_scale": 1.0, "cont_scale": 1.0, "grad_clip": 100.0})
    return {"wm": wm}, {
        "reward_head_changed": not torch.equal(r0, wm.reward_head[0].weight),
        "decoder_changed": not torch.equal(d0, wm.decoder[0].weight),
        "updates_run": len(losses),
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
