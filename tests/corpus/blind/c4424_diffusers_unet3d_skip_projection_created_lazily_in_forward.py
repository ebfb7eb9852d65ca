import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler

CFG = {"block_channels": (8, 16), "lr": 1e-3, "epochs": 2, "bs": 4, "size": 8}


class DownBlock3D(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.norm = nn.GroupNorm(4, cin) if cin % 4 == 0 else nn.Identity()
        self.conv = nn.Conv3d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout)
        self.conv2 = nn.Conv3d(cout, cout, 3, padding=1)

    def forward(self, x, t):
        h = self.conv(F.silu(self.norm(x))) + self.temb(t)[:, :, None, None, None]
        h = self.conv2(F.silu(h))
        if x.shape[1] != h.shape[1]:
            if not hasattr(self, "skip_proj"):
                self.skip_proj = nn.Conv3d(x.shape[1], h.shape[1], 1)
            x = self.skip_proj(x)
        return h + x


class CTDenoiser3D(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=1, block_channels=(8, 16), temb_dim=32):
        super().__init__()
        c0, c1 = block_channels
        self.time_mlp = nn.Sequential(nn.Linear(1, temb_dim), nn.SiLU(), nn.Linear(temb_dim, temb_dim))
        self.conv_in = nn.Conv3d(in_channels, c0, 3, padding=1)
        self.down = DownBlock3D(c0, c1, temb_dim)
        self.mid = DownBlock3D(c1, c1, temb_dim)
        self.up = nn.ConvTranspose3d(c1, c0, 2, stride=2)
        self.conv_out = nn.Conv3d(2 * c0, in_channels, 3, padding=1)

    def forward(self, sample, timesteps):
        t = self.time_mlp(timesteps.float()[:, None] / 1000)
        h0 = self.conv_in(sample)
        h = self.mid(self.down(F.avg_pool3d(h0, 2), t), t)
        return self.conv_out(torch.cat([self.up(h), h0], 1))


def ct_patches(n=8, s=8):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, s, s, s, generator=g)
    return F.avg_pool3d(x, 3, stride=1, padding=1) * 2


def train(model, noise_sched, optimizer, lr_sched, data, cfg):
    for epoch in range(cfg["epochs"]):
        for i in range(0, len(data), cfg["bs"]):
            x0 = data[i:i + cfg["bs"]]
            noise = torch.randn_like(x0)
            t = torch.randint(0, noise_sched.config.num_train_timesteps, (x0.shape[0],))
            loss = F.mse_loss(model(noise_sched.add_noise(x0, noise, t), t), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_sched.step()


def main():
    torch.manual_seed(0)
    model = CTDenoiser3D(block_channels=CFG["block_channels"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"], weight_decay=1e-2)
    lr_sched = get_scheduler("linear", optimizer, num_warmup_steps=1, num_training_steps=4)
    noise_sched = DDPMScheduler(num_train_timesteps=100)
    data = ct_patches(s=CFG["size"])
    with torch.no_grad():
        model(data[:1], torch.zeros(1, dtype=torch.long))                 # dry run: materialise the skip projection
    skip0 = model.down.skip_proj.weight.detach().clone()
    conv0 = model.down.conv.weight.detach().clone()
    train(model, noise_sched, optimizer, lr_sched, data, CFG)
    return {"model": model}, {
        "skip_projection_changed": not torch.equal(skip0, model.down.skip_proj.weight),
        "down_conv_changed": not torch.equal(conv0, model.down.conv.weight),
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
