import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.training_utils import EMAModel


class TinyVAEEncoder(nn.Module):
    def __init__(self, latent=4):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.SiLU(), nn.Conv2d(8, latent, 3, 1, 1))

    def forward(self, images):
        return self.net(images) * 0.18


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, width=8, num_train_timesteps=100):
        super().__init__()
        self.time_embed = nn.Embedding(num_train_timesteps, width)
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.down = nn.Conv2d(width, width, 3, padding=1)
        self.mid = nn.Conv2d(width, width, 3, padding=1)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, sample, timesteps, adapter_features=None):
        h = self.conv_in(sample) + self.time_embed(timesteps)[:, :, None, None]
        if adapter_features is not None:
            h = h + adapter_features[0]
        h = F.silu(self.down(h))
        if adapter_features is not None:
            h = h + adapter_features[1]
        return self.conv_out(F.silu(self.mid(h)))


class T2IAdapter(ModelMixin):
    """Maps a condition map (edges / depth) to features added to the UNet encoder."""

    @register_to_config
    def __init__(self, cond_channels=1, width=8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cond_channels, width, 3, 2, 1), nn.SiLU(), nn.Conv2d(width, width, 3, 1, 1))
        self.heads = nn.ModuleList([nn.Conv2d(width, width, 1), nn.Conv2d(width, width, 1)])

    def forward(self, cond):
        h = self.body(cond)
        return [head(h) for head in self.heads]


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=1)
    vae_encoder, unet, adapter = TinyVAEEncoder(), TinyUNet(), T2IAdapter()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    vae_encoder.requires_grad_(False)
    unet.requires_grad_(False)
    adapter.train()
    ema_adapter = EMAModel(adapter.parameters(), decay=0.99)
    optimizer = torch.optim.AdamW(adapter.parameters(), lr=1e-3, weight_decay=1e-2)
    g = torch.Generator().manual_seed(0)
    images = torch.randn(12, 3, 16, 16, generator=g)
    conds = (images.mean(1, keepdim=True) > 0).float()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, conds), batch_size=4)
    adapter, optimizer, loader = accelerator.prepare(adapter, optimizer, loader)
    adapter_before = adapter.heads[0].weight.detach().clone()
    for epoch in range(2):
        for img, cond in loader:
            with torch.no_grad():
                latents = vae_encoder(img)
            noise = torch.randn_like(latents)
            timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],))
            noisy = noise_scheduler.add_noise(latents, noise, timesteps)
            with accelerator.accumulate(adapter):
                pred = unet(noisy, timesteps, adapter_features=adapter(cond))
                loss = F.mse_loss(pred.float(), noise.float())
                optimizer.zero_grad()
                accelerator.backward(loss)
                optimizer.step()
            ema_adapter.step(adapter.parameters())
    facts = {"adapter_changed": not torch.equal(adapter_before, adapter.heads[0].weight),
             "unet_frozen": not any(p.requires_grad for p in unet.parameters())}
    return {"adapter": adapter, "unet": unet}, facts

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
