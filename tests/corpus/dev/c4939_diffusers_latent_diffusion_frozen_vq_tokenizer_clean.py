import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel


class FrozenVQ(nn.Module):
    def __init__(self, n_codes=16, dim=4):
        super().__init__()
        self.enc = nn.Conv2d(1, dim, 2, stride=2)
        self.codebook = nn.Embedding(n_codes, dim)

    def encode(self, x):
        z = self.enc(x).permute(0, 2, 3, 1)
        idx = torch.cdist(z.reshape(-1, z.shape[-1]), self.codebook.weight).argmin(-1)
        return self.codebook(idx).view_as(z).permute(0, 3, 1, 2)


class LatentUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, hidden=16):
        super().__init__()
        self.inp = nn.Conv2d(channels, hidden, 3, padding=1)
        self.temb = nn.Linear(1, hidden)
        self.out = nn.Conv2d(hidden, channels, 3, padding=1)

    def forward(self, x, t):
        return self.out(F.silu(self.inp(x) + self.temb(t.float()[:, None] / 1000)[:, :, None, None]))


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    vq = FrozenVQ()
    vq.requires_grad_(False)
    vq.eval()
    unet = LatentUNet()
    sched = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    lr_sched = get_scheduler("linear", optimizer, num_warmup_steps=1, num_training_steps=6)
    ema = EMAModel(unet.parameters(), decay=0.99)
    vq0, unet0 = vq.codebook.weight.clone(), unet.inp.weight.detach().clone()
    for _ in range(6):
        images = torch.randn(8, 1, 8, 8, generator=g)
        with torch.no_grad():
            latents = vq.encode(images)
        noise = torch.randn(latents.shape, generator=g)
        t = torch.randint(0, 1000, (8,), generator=g)
        loss = F.mse_loss(unet(sched.add_noise(latents, noise, t), t), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_sched.step()
        ema.step(unet.parameters())
    return {"unet": unet}, {"unet_changed": not torch.equal(unet0, unet.inp.weight), "vq_changed": not torch.equal(vq0, vq.codebook.weight)}

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
