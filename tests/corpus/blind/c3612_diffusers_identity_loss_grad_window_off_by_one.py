import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch.utils.data import DataLoader, TensorDataset


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=3, cond_dim=8):
        super().__init__()
        self.inp = nn.Conv2d(channels, 16, 3, 1, 1)
        self.cond_proj = nn.Linear(cond_dim, 16)
        self.out = nn.Conv2d(16, channels, 3, 1, 1)

    def forward(self, x, t, cond):
        h = F.silu(self.inp(x) + self.cond_proj(cond)[:, :, None, None] + t.float().view(-1, 1, 1, 1) / 1000)
        return self.out(h)


class IdentityAdapter(nn.Module):
    """Maps a face embedding to the UNet conditioning; the only trainable part in this stage."""

    def __init__(self, face_dim=6, cond_dim=8):
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(face_dim, 16), nn.GELU(), nn.Linear(16, cond_dim))

    def forward(self, face):
        return self.proj(face)


def run_inference(unet, scheduler, adapter, face, num_inference_steps=3, training_mode=True):
    latents = torch.randn(face.shape[0], 3, 8, 8)
    cond = adapter(face)
    timesteps = torch.linspace(scheduler.config.num_train_timesteps - 1, 0, num_inference_steps).long()
    for i, t in enumerate(timesteps):
        with torch.set_grad_enabled(training_mode and i == len(timesteps)):
            eps = unet(latents, t.repeat(face.shape[0]), cond)
            latents = latents - 0.1 * eps
    return latents


def id_loss(images, face, face_encoder):
    return 1 - F.cosine_similarity(face_encoder(images.flatten(1)), face, dim=-1).mean()


def main():
    torch.manual_seed(0)
    unet, adapter = TinyUNet(), IdentityAdapter()
    unet.requires_grad_(False)
    face_encoder = nn.Linear(3 * 8 * 8, 6).requires_grad_(False)
    scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(adapter.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(torch.randn(8, 6)), batch_size=4)
    for (face,) in loader:
        images = run_inference(unet, scheduler, adapter, face)
        loss = id_loss(images, face, face_encoder)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
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
