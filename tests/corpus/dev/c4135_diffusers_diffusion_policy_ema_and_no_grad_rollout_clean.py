import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel


class ConditionalActionUNet(ModelMixin):
    """1-D temporal conv noise predictor over an action chunk, FiLM-conditioned on observation + timestep."""

    @register_to_config
    def __init__(self, action_dim=2, obs_dim=6, horizon=8, hidden=32, num_train_timesteps=50):
        super().__init__()
        self.t_embed = nn.Embedding(num_train_timesteps, hidden)
        self.obs_mlp = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Mish(), nn.Linear(hidden, hidden))
        self.inp = nn.Conv1d(action_dim, hidden, 3, padding=1)
        self.film = nn.Linear(hidden, 2 * hidden)
        self.out = nn.Sequential(nn.Mish(), nn.Conv1d(hidden, action_dim, 3, padding=1))

    def forward(self, noisy_actions, timesteps, obs):
        cond = self.obs_mlp(obs) + self.t_embed(timesteps)
        scale, shift = self.film(cond).unsqueeze(-1).chunk(2, dim=1)
        h = self.inp(noisy_actions.transpose(1, 2)) * (1 + scale) + shift
        return self.out(h).transpose(1, 2)


@torch.no_grad()
def sample_actions(model, scheduler, obs, horizon=8, action_dim=2):
    actions = torch.randn(obs.size(0), horizon, action_dim)
    for t in range(scheduler.config.num_train_timesteps - 1, -1, -10):
        ts = torch.full((obs.size(0),), t, dtype=torch.long)
        eps = model(actions, ts, obs)
        alpha_bar = scheduler.alphas_cumprod[t]
        actions = (actions - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()
        actions = actions.clamp(-1, 1)
    return actions


def demo_batches(n_batches=6, b=8, obs_dim=6, horizon=8):
    g = torch.Generator().manual_seed(0)
    for _ in range(n_batches):
        obs = torch.randn(b, obs_dim, generator=g)
        yield obs, torch.tanh(obs[:, None, :2].expand(-1, horizon, -1) * 0.5)


def main():
    torch.manual_seed(0)
    model = ConditionalActionUNet()
    scheduler = DDPMScheduler(num_train_timesteps=50, beta_schedule="scaled_linear")
    ema = EMAModel(model.parameters(), decay=0.75, use_ema_warmup=True, power=0.75)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-6)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer=optimizer, num_warmup_steps=2)
    film0 = model.film.weight.detach().clone()
    ema0 = ema.shadow_params[0].clone()
    for obs, actions in demo_batches():
        noise = torch.randn_like(actions)
        t = torch.randint(0, 50, (actions.size(0),))
        pred = model(scheduler.add_noise(actions, noise, t), t, obs)
        loss = F.mse_loss(pred, noise)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        ema.step(model.parameters())
        optimizer.zero_grad()
    model.eval()
    rollout = sample_actions(model, scheduler, torch.randn(2, 6))
    return {"model": model}, {
        "film_changed": not torch.equal(film0, model.film.weight),
        "ema_changed": not torch.equal(ema0, ema.shadow_params[0]),
        "rollout_requires_grad": rollout.requires_grad,
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
