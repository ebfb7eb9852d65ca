import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class TinyUNet2DModel(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=3, block_out=16):
        super().__init__()
        self.time_embedding = nn.Sequential(nn.Linear(1, block_out), nn.SiLU(), nn.Linear(block_out, block_out))
        self.conv_in = nn.Conv2d(in_channels, block_out, 3, padding=1)
        self.down = nn.Conv2d(block_out, block_out, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(block_out, block_out, 4, stride=2, padding=1)
        self.conv_out = nn.Conv2d(2 * block_out, in_channels, 3, padding=1)

    def forward(self, sample, timestep):
        temb = self.time_embedding(timestep.float().unsqueeze(-1) / 1000)[:, :, None, None]
        h0 = F.silu(self.conv_in(sample) + temb)
        h = self.up(F.silu(self.down(h0)))
        return self.conv_out(torch.cat([h0, h], dim=1))


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=1)
    model = TinyUNet2DModel()
    ema_model = EMAModel(model.parameters(), decay=0.9999, use_ema_warmup=True, inv_gamma=1.0, power=0.75)
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-6)
    loader = DataLoader(TensorDataset(torch.rand(16, 3, 8, 8) * 2 - 1), batch_size=4, shuffle=True)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer=optimizer, num_warmup_steps=2, num_training_steps=8)
    model, optimizer, loader, lr_scheduler = accelerator.prepare(model, optimizer, loader, lr_scheduler)
    shadow0 = ema_model.shadow_params[0].clone()
    for (clean_images,) in loader:
        noise = torch.randn_like(clean_images)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (clean_images.size(0),))
        noisy_images = noise_scheduler.add_noise(clean_images, noise, timesteps)
        with accelerator.accumulate(model):
            model_output = model(noisy_images, timesteps)
            loss = F.mse_loss(model_output.float(), noise.float())
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            lr_scheduler.step()
        if accelerator.sync_gradients:
            ema_model.step(model.parameters())
    return ({"unet": model},
            {"ema_moved": not torch.equal(shadow0, ema_model.shadow_params[0]), "ema_steps": ema_model.optimization_step})

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
