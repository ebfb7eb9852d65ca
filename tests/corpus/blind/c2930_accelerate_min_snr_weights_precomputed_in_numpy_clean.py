import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config


class TinyDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, channels=3, width=8, num_train_timesteps=100):
        super().__init__()
        self.time_embed = nn.Sequential(nn.Embedding(num_train_timesteps, width), nn.Linear(width, width), nn.SiLU())
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.block = nn.Sequential(nn.GroupNorm(2, width), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1))
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, sample, timesteps):
        h = self.conv_in(sample) + self.time_embed(timesteps)[:, :, None, None]
        return self.conv_out(h + self.block(h))


def min_snr_weights(alphas_cumprod, gamma=5.0):
    """Per-timestep loss weights min(SNR, gamma) / SNR for epsilon prediction, computed once in NumPy."""
    snr = alphas_cumprod / (1.0 - alphas_cumprod)
    return np.minimum(snr, gamma) / snr


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = TinyDenoiser()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100, beta_schedule="scaled_linear")
    weights_np = min_snr_weights(noise_scheduler.alphas_cumprod.numpy().astype(np.float64))
    snr_weights = torch.from_numpy(weights_np).float()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    images = torch.tanh(torch.randn(20, 3, 8, 8, generator=g))
    loader = torch.utils.data.DataLoader(images, batch_size=4, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    conv_before = model.conv_in.weight.detach().clone()
    history = []
    for epoch in range(3):
        for clean in loader:
            noise = torch.randn_like(clean)
            timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (clean.shape[0],))
            noisy = noise_scheduler.add_noise(clean, noise, timesteps)
            with accelerator.accumulate(model):
                per_sample = F.mse_loss(model(noisy, timesteps), noise, reduction="none").mean(dim=(1, 2, 3))
                loss = (snr_weights[timesteps] * per_sample).mean()
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                optimizer.zero_grad()
            history.append(loss.item())
    facts = {"conv_in_changed": not torch.equal(conv_before, model.conv_in.weight),
             "weights_dtype_float32": snr_weights.dtype == torch.float32}
    return {"model": model}, facts

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
