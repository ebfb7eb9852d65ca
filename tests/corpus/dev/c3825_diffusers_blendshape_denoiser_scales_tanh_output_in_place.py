import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.cos(), args.sin()], -1)


class BlendshapeDenoiser(ModelMixin, ConfigMixin):
    """Speech-driven facial animation: denoises a blendshape coefficient sequence conditioned on audio features."""

    @register_to_config
    def __init__(self, n_blendshapes=8, audio_dim=12, hidden=32, out_scale=3.0):
        super().__init__()
        self.time_mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.in_proj = nn.Linear(n_blendshapes, hidden)
        self.audio_proj = nn.Linear(audio_dim, hidden)
        self.temporal = nn.Conv1d(hidden, hidden, 3, padding=1)
        self.out = nn.Linear(hidden, n_blendshapes)

    def forward(self, sample, timesteps, audio_features):
        t_emb = self.time_mlp(timestep_embedding(timesteps, self.config.hidden)).unsqueeze(1)
        h = self.in_proj(sample) + self.audio_proj(audio_features) + t_emb
        h = F.silu(self.temporal(h.transpose(1, 2)).transpose(1, 2))
        out = torch.tanh(self.out(h))
        out *= self.config.out_scale
        return out


def make_loader(n=16, frames=12):
    g = torch.Generator().manual_seed(0)
    audio = torch.randn(n, frames, 12, generator=g)
    blendshapes = torch.sigmoid(audio[..., :8] @ torch.randn(8, 8, generator=g) * 0.5)
    return DataLoader(TensorDataset(blendshapes, audio), batch_size=4, shuffle=True)


def main():
    torch.manual_seed(0)
    model = BlendshapeDenoiser()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2, num_training_steps=8)
    w0 = model.in_proj.weight.detach().clone()
    for epoch in range(2):
        for blendshapes, audio in make_loader():
            noise = torch.randn_like(blendshapes)
            timesteps = torch.randint(0, 100, (blendshapes.shape[0],))
            noisy = noise_scheduler.add_noise(blendshapes, noise, timesteps)
            loss = F.mse_loss(model(noisy, timesteps, audio), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
    return {"model": model}, {"in_proj_changed": not torch.equal(w0, model.in_proj.weight)}

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
