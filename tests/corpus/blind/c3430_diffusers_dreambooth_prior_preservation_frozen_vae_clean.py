import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class TinyAutoencoder(ModelMixin):
    @register_to_config
    def __init__(self, latent=4):
        super().__init__()
        self.encoder = nn.Conv2d(3, latent, 4, stride=2, padding=1)

    def encode(self, x):
        return self.encoder(x)


class TinyCondUNet(ModelMixin):
    @register_to_config
    def __init__(self, latent=4, width=16, cond_dim=8):
        super().__init__()
        self.conv_in = nn.Conv2d(latent, width, 3, padding=1)
        self.cond_proj = nn.Linear(cond_dim, width)
        self.conv_out = nn.Conv2d(width, latent, 3, padding=1)

    def forward(self, x, t, cond):
        h = self.conv_in(x) + self.cond_proj(cond)[:, :, None, None] + (t.float() / 1000)[:, None, None, None]
        return self.conv_out(F.silu(h))


def collate_with_class_images(instance, class_imgs):
    return torch.cat([instance, class_imgs], dim=0)


def main():
    torch.manual_seed(0)
    vae, unet = TinyAutoencoder(), TinyCondUNet()
    vae.requires_grad_(False)
    token_embeddings = nn.Embedding(2, 8)
    token_embeddings.requires_grad_(False)
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=5e-4)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer=optimizer, num_warmup_steps=2)
    g = torch.Generator().manual_seed(35)
    instance = torch.rand(8, 3, 8, 8, generator=g) * 2 - 1
    class_imgs = torch.rand(8, 3, 8, 8, generator=g) * 2 - 1
    loader = DataLoader(TensorDataset(instance, class_imgs), batch_size=2, shuffle=True)
    w0 = unet.conv_in.weight.detach().clone()
    unet.train()
    for inst, cls in loader:
        pixels = collate_with_class_images(inst, cls)
        with torch.no_grad():
            latents = vae.encode(pixels)
            latents.mul_(0.18215)
            cond = token_embeddings(torch.tensor([0] * inst.size(0) + [1] * cls.size(0)))
        noise = torch.randn_like(latents)
        noise.clamp_(-3.0, 3.0)
        t = torch.randint(0, 1000, (latents.size(0),))
        pred = unet(noise_scheduler.add_noise(latents, noise, t), t, cond)
        pred_inst, pred_prior = pred.chunk(2)
        noise_inst, noise_prior = noise.chunk(2)
        loss = F.mse_loss(pred_inst, noise_inst) + 1.0 * F.mse_loss(pred_prior, noise_prior)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad(set_to_none=True)
    loss = F.mse_loss(unet(latents, t, cond), noise)
    loss.backward()
    return {"unet": unet}, {"unet_changed": not torch.equal(w0, unet.conv_in.weight),
                            "vae_has_no_grad": all(p.grad is None for p in vae.parameters())}

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
