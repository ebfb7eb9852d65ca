import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class TinyVAE(ModelMixin):
    @register_to_config
    def __init__(self, latent_channels=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.SiLU(), nn.Conv2d(8, latent_channels, 1))

    def encode(self, x):
        return self.encoder(x)


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, width=16):
        super().__init__()
        self.time_embed = nn.Sequential(nn.Linear(1, width), nn.SiLU())
        self.down1 = nn.Conv2d(channels, width, 3, padding=1)
        self.down2 = nn.Conv2d(width, width, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(width, width, 2, stride=2)
        self.out = nn.Conv2d(2 * width, channels, 3, padding=1)

    def forward(self, sample, timestep, down_block_additional_residuals=None):
        temb = self.time_embed(timestep.float()[:, None] / 1000)[:, :, None, None]
        h1 = F.silu(self.down1(sample) + temb)
        h2 = F.silu(self.down2(h1))
        if down_block_additional_residuals is not None:
            r1, r2 = down_block_additional_residuals
            h1, h2 = h1 + r1, h2 + r2
        return self.out(torch.cat([h1, F.silu(self.up(h2))], dim=1))


class T2IAdapter(ModelMixin):
    """Maps a condition image (e.g. a sketch) to residuals added to the UNet's down-block features."""

    @register_to_config
    def __init__(self, width=16):
        super().__init__()
        self.body1 = nn.Sequential(nn.Conv2d(1, width, 3, stride=2, padding=1), nn.SiLU())
        self.body2 = nn.Sequential(nn.Conv2d(width, width, 3, stride=2, padding=1), nn.SiLU())

    def forward(self, cond):
        f1 = self.body1(cond)
        return [f1, self.body2(f1)]


def main():
    accelerator = Accelerator(gradient_accumulation_steps=1, mixed_precision="no")
    torch.manual_seed(0)
    vae, unet, adapter = TinyVAE(), TinyUNet(), T2IAdapter()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    vae.requires_grad_(False)
    unet.requires_grad_(False)
    adapter.train()
    ema_adapter = EMAModel(adapter.parameters(), decay=0.99)

    optimizer = torch.optim.AdamW(adapter.parameters(), lr=1e-3)
    images, sketches = torch.rand(16, 3, 16, 16) * 2 - 1, (torch.rand(16, 1, 16, 16) > 0.5).float()
    loader = DataLoader(TensorDataset(images, sketches), batch_size=4, shuffle=True)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2, num_training_steps=8)
    adapter, optimizer, loader, lr_scheduler = accelerator.prepare(adapter, optimizer, loader, lr_scheduler)

    unet_w0 = unet.out.weight.detach().clone()
    adapter_w0 = accelerator.unwrap_model(adapter).body1[0].weight.detach().clone()
    for pixel_values, sketch in loader:
        with accelerator.accumulate(adapter):
            with torch.no_grad():
                latents = vae.encode(pixel_values) * 0.18215
            noise = torch.randn_like(latents)
            timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],))
            noisy = noise_scheduler.add_noise(latents, noise, timesteps)
            residuals = adapter(sketch)
            model_pred = unet(noisy, timesteps, down_block_additional_residuals=residuals)
            loss = F.mse_loss(model_pred.float(), noise.float())
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad(set_to_none=False)
        if accelerator.sync_gradients:
            ema_adapter.step(adapter.parameters())
    return ({"adapter": accelerator.unwrap_model(adapter), "unet": unet},
            {"unet_changed": not torch.equal(unet_w0, unet.out.weight.detach()),
             "adapter_changed": not torch.equal(adapter_w0, accelerator.unwrap_model(adapter).body1[0].weight.detach())})

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
