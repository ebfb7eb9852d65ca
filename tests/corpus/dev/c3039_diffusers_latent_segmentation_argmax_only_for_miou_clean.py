import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch.utils.data import DataLoader, TensorDataset


class TinyVAEEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.SiLU(), nn.Conv2d(4, 4, 3, padding=1))

    def forward(self, x):
        return self.net(x)


class SegDenoiser(ModelMixin):
    """Predicts segmentation logits from noisy image latents (one-step diffusion segmentation)."""

    @register_to_config
    def __init__(self, latent_ch=4, n_cls=3, ch=8):
        super().__init__()
        self.time_proj = nn.Linear(1, ch)
        self.time_proj.requires_grad_(False)
        self.conv_in = nn.Conv2d(latent_ch, ch, 3, padding=1)
        self.mid = nn.Conv2d(ch, ch, 3, padding=1)
        self.seg_head = nn.Conv2d(ch, n_cls, 1)

    def forward(self, latents, t):
        emb = self.time_proj(t.float()[:, None] / 1000)[:, :, None, None]
        h = F.silu(self.conv_in(latents) + emb)
        h = F.silu(self.mid(h))
        return F.interpolate(self.seg_head(h), scale_factor=2, mode="bilinear", align_corners=False)


def mean_iou(logits, masks, n_cls=3):
    pred = logits.argmax(1)
    ious = []
    for c in range(n_cls):
        inter = ((pred == c) & (masks == c)).sum().item()
        union = ((pred == c) | (masks == c)).sum().item()
        if union:
            ious.append(inter / union)
    return sum(ious) / max(len(ious), 1)


def main():
    torch.manual_seed(0)
    vae_encoder = TinyVAEEncoder().requires_grad_(False)
    model = SegDenoiser()
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
    lr_sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=8)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 3, 8, 8, generator=g), torch.randint(0, 3, (16, 8, 8), generator=g)),
                        batch_size=4, shuffle=True, generator=g)
    history = []
    for epoch in range(2):
        for images, masks in loader:
            with torch.no_grad():
                latents = vae_encoder(images)
            t = torch.full((images.shape[0],), 200)
            noisy = scheduler.add_noise(latents, torch.randn_like(latents), t)
            logits = model(noisy, t)
            loss = F.cross_entropy(logits, masks)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_sched.step()
            history.append(mean_iou(logits.detach(), masks))
    return {"model": model}, {"logged_miou_steps": len(history)}

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
