import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset

CFG = {"img_dim": 32, "latent": 8, "cond_dim": 16, "hidden": 48, "lr": 1e-3, "epochs": 2, "T": 1000}


class TinyVAE(ModelMixin):
    @register_to_config
    def __init__(self, img_dim=32, latent=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(img_dim, 32), nn.SiLU(), nn.Linear(32, latent))

    def encode(self, x):
        return self.enc(x)


class ConditionAdapter(ModelMixin):
    """T2I-Adapter-style side network: turns a control signal into residuals added inside the frozen denoiser."""

    @register_to_config
    def __init__(self, cond_dim=16, hidden=48):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(cond_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, cond):
        return self.net(cond)


class FrozenDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, latent=8, hidden=48):
        super().__init__()
        self.inp = nn.Linear(latent + 1, hidden)
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(hidden, latent))

    def forward(self, z, t, adapter_residual):
        h = self.inp(torch.cat([z, t.float()[:, None] / 1000.0], dim=1))
        return self.out(h + adapter_residual)


@torch.no_grad()
def prepare_batch(vae, adapter, scheduler, image, control):
    """Encode the image, noise the latents and compute the adapter residuals for this step."""
    latents = vae.encode(image) * 0.18215
    noise = torch.randn_like(latents)
    t = torch.randint(0, scheduler.config["num_train_timesteps"], (latents.size(0),))
    return scheduler.add_noise(latents, noise, t), noise, t, adapter(control)


def train_adapter(vae, unet, adapter, scheduler, loader, optimizer, lr_scheduler, epochs):
    adapter.train()
    for epoch in range(epochs):
        for image, control in loader:
            noisy, noise, t, residual = prepare_batch(vae, adapter, scheduler, image, control)
            loss = F.mse_loss(unet(noisy, t, residual), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_scheduler.step()


def main():
    torch.manual_seed(0)
    vae = TinyVAE(CFG["img_dim"], CFG["latent"]).requires_grad_(False)
    unet = FrozenDenoiser(CFG["latent"], CFG["hidden"]).requires_grad_(False)
    adapter = ConditionAdapter(CFG["cond_dim"], CFG["hidden"])
    scheduler = DDPMScheduler(num_train_timesteps=CFG["T"])
    g = torch.Generator().manual_seed(0)
    image = torch.randn(48, CFG["img_dim"], generator=g)
    control = image[:, : CFG["cond_dim"]] + 0.1 * torch.randn(48, CFG["cond_dim"], generator=g)
    loader = DataLoader(TensorDataset(image, control), batch_size=16, shuffle=True, generator=g)
    optimizer = torch.optim.AdamW(adapter.parameters(), lr=CFG["lr"])
    lr_scheduler = get_scheduler("linear", optimizer, num_warmup_steps=1, num_training_steps=6)
    train_adapter(vae, unet, adapter, scheduler, loader, optimizer, lr_scheduler, CFG["epochs"])
    return {"adapter": adapter}

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
