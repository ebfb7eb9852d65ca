import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler


class SpecUNet(ModelMixin):
    """Tiny denoiser over mel-spectrogram patches (stands in for a pretrained audio diffusion UNet)."""

    @register_to_config
    def __init__(self, n_mels=8, hidden=32, num_train_timesteps=100):
        super().__init__()
        self.time_embedding = nn.Sequential(nn.Embedding(num_train_timesteps, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.down = nn.Conv1d(n_mels, hidden, 3, padding=1)
        self.mid = nn.Conv1d(hidden, hidden, 3, padding=1)
        self.up = nn.Conv1d(hidden, n_mels, 3, padding=1)

    def forward(self, x, t, adapter_residual=None):
        h = F.silu(self.down(x) + self.time_embedding(t)[..., None])
        if adapter_residual is not None:
            h = h + adapter_residual
        return self.up(F.silu(self.mid(h)))


class ConditionAdapter(ModelMixin):
    @register_to_config
    def __init__(self, cond_dim=4, hidden=32):
        super().__init__()
        self.proj = nn.Sequential(nn.Conv1d(cond_dim, hidden, 1), nn.SiLU(), nn.Conv1d(hidden, hidden, 1))

    def forward(self, cond):
        return self.proj(cond)


def set_trainable(unet, trainable_modules):
    unet.requires_grad_(False)
    for name in trainable_modules:
        getattr(unet, name).requires_grad = True


def batches(n=6, b=4, n_mels=8, frames=16):
    g = torch.Generator().manual_seed(0)
    for _ in range(n):
        yield torch.randn(b, n_mels, frames, generator=g), torch.randn(b, 4, frames, generator=g)


def main():
    torch.manual_seed(0)
    cfg = {"trainable_modules": ["time_embedding"], "lr": 1e-3, "timesteps": 100}
    unet, adapter = SpecUNet(num_train_timesteps=cfg["timesteps"]), ConditionAdapter()
    set_trainable(unet, cfg["trainable_modules"])
    params = [p for p in list(unet.parameters()) + list(adapter.parameters()) if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg["lr"])
    lr_scheduler = get_scheduler("constant", optimizer=optimizer)
    noise_scheduler = DDPMScheduler(num_train_timesteps=cfg["timesteps"])
    temb0 = unet.time_embedding[2].weight.detach().clone()
    ad0 = adapter.proj[0].weight.detach().clone()
    for mel, cond in batches():
        noise = torch.randn_like(mel)
        t = torch.randint(0, cfg["timesteps"], (mel.size(0),))
        pred = unet(noise_scheduler.add_noise(mel, noise, t), t, adapter(cond))
        loss = F.mse_loss(pred, noise)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()
    return {"unet": unet, "adapter": adapter}, {
        "time_embedding_changed": not torch.equal(temb0, unet.time_embedding[2].weight),
        "adapter_changed": not torch.equal(ad0, adapter.proj[0].weight),
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
