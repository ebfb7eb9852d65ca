import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler

CFG = {"channels": (8, 16), "n_modalities": 3, "lr": 1e-3, "epochs": 2, "frozen": ("time_embedding", "conv_in")}


class ResBlock3D(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.conv1 = nn.Conv3d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout)
        self.conv2 = nn.Conv3d(cout, cout, 3, padding=1)
        self.skip = nn.Conv3d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, t):
        h = F.silu(self.conv1(x)) + self.temb(t)[:, :, None, None, None]
        return self.skip(x) + self.conv2(F.silu(h))


class UNet3DModel(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=1, channels=(8, 16), temb_dim=32):
        super().__init__()
        c0, c1 = channels
        self.time_embedding = nn.Sequential(nn.Linear(1, temb_dim), nn.SiLU(), nn.Linear(temb_dim, temb_dim))
        self.conv_in = nn.Conv3d(in_channels, c0, 3, padding=1)
        self.down = ResBlock3D(c0, c1, temb_dim)
        self.mid = ResBlock3D(c1, c1, temb_dim)
        self.up = ResBlock3D(c1 + c0, c0, temb_dim)
        self.conv_out = nn.Conv3d(c0, in_channels, 3, padding=1)

    def forward(self, sample, timestep, cond_emb):
        t = self.time_embedding(timestep.float()[:, None] / 1000.0) + cond_emb
        h0 = self.conv_in(sample)
        h1 = self.mid(self.down(F.avg_pool3d(h0, 2), t), t)
        h = self.up(torch.cat([F.interpolate(h1, scale_factor=2), h0], 1), t)
        return self.conv_out(F.silu(h))


class ModalityEncoder(nn.Module):
    """New conditioning for the fine-tune: which MRI sequence (T1, T2, FLAIR) the volume comes from."""

    def __init__(self, n, dim):
        super().__init__()
        self.table = nn.Embedding(n, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, idx):
        return self.proj(self.table(idx))


def freeze_pretrained(unet, cfg):
    for name, p in unet.named_parameters():
        if "time_embedding" in name or "conv_in":
            p.requires_grad_(False)


def volumes(n=8, s=8):
    g = torch.Generator().manual_seed(0)
    base = torch.randn(n, 1, s, s, s, generator=g)
    return F.avg_pool3d(base, 3, stride=1, padding=1), torch.randint(0, 3, (n,), generator=g)


def train(unet, encoder, noise_sched, optimizer, lr_sched, data, epochs):
    x_all, mod_all = data
    for epoch in range(epochs):
        for i in range(0, len(x_all), 4):
            x0, mod = x_all[i:i + 4], mod_all[i:i + 4]
            noise = torch.randn_like(x0)
            t = torch.randint(0, noise_sched.config.num_train_timesteps, (x0.shape[0],))
            noisy = noise_sched.add_noise(x0, noise, t)
            loss = F.mse_loss(unet(noisy, t, encoder(mod)), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_sched.step()


def main():
    torch.manual_seed(0)
    unet = UNet3DModel(channels=CFG["channels"])
    encoder = ModalityEncoder(CFG["n_modalities"], 32)
    freeze_pretrained(unet, CFG)
    params = [p for p in unet.parameters() if p.requires_grad] + list(encoder.parameters())
    optimizer = torch.optim.AdamW(params, lr=CFG["lr"])
    lr_sched = get_scheduler("constant", optimizer)
    noise_sched = DDPMScheduler(num_train_timesteps=100)
    down0 = unet.down.conv1.weight.detach().clone()
    enc0 = encoder.proj.weight.detach().clone()
    train(unet, encoder, noise_sched, optimizer, lr_sched, volumes(), CFG["epochs"])
    return {"unet": unet, "encoder": encoder}, {
        "unet_down_changed": not torch.equal(down0, unet.down.conv1.weight),
        "modality_encoder_changed": not torch.equal(enc0, encoder.proj.weight),
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
