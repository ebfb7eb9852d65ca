import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler

PRUNING = {"sparsity": 0.5, "lr": 1e-3, "steps": 6, "warmup": 2, "size": 8}


class SmallDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, channels=3, width=16):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.time = nn.Linear(1, width)
        self.mid = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1))
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, x, t):
        h = F.silu(self.conv_in(x)) + self.time(t.float()[:, None] / 1000)[:, :, None, None]
        return self.conv_out(h + self.mid(h))


def global_magnitude_masks(model, sparsity):
    weights = {n: p for n, p in model.named_parameters() if p.ndim == 4}
    all_mags = torch.cat([p.detach().abs().flatten() for p in weights.values()])
    threshold = all_mags.kthvalue(int(sparsity * all_mags.numel())).values
    return {n: (p.detach().abs() > threshold).float() for n, p in weights.items()}


@torch.no_grad()
def apply_masks(model, masks):
    for name, param in model.named_parameters():
        if name in masks:
            param.mul_(masks[name])


def mask_gradients(model, masks):
    for name, param in model.named_parameters():
        if name in masks and param.grad is not None:
            param.grad.mul_(masks[name])


def image_batch(size, n=6):
    g = torch.Generator().manual_seed(0)
    return torch.tanh(torch.randn(n, 3, size, size, generator=g).cumsum(-1) / 3)


def main():
    torch.manual_seed(0)
    unet = SmallDenoiser()
    masks = global_magnitude_masks(unet, PRUNING["sparsity"])
    apply_masks(unet, masks)
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=PRUNING["lr"], weight_decay=0.0)
    lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=PRUNING["warmup"],
                                 num_training_steps=PRUNING["steps"])
    w0 = unet.mid[0].weight.detach().clone()
    images = image_batch(PRUNING["size"])
    for step in range(PRUNING["steps"]):
        noise = torch.randn_like(images)
        t = torch.randint(0, 1000, (images.size(0),))
        loss = F.mse_loss(unet(noise_scheduler.add_noise(images, noise, t), t), noise)
        optimizer.zero_grad()
        loss.backward()
        mask_gradients(unet, masks)
        optimizer.step()
        lr_scheduler.step()
        apply_masks(unet, masks)
    m = masks["mid.0.weight"].bool()
    w = unet.mid[0].weight.detach()
    sparsity = 1 - sum(v.sum() for v in masks.values()) / sum(v.numel() for v in masks.values())
    print(f"global sparsity {float(sparsity):.2f}")
    return {"unet": unet}, {
        "survivors_changed": not torch.equal(w0[m], w[m]),
        "pruned_stay_zero": bool((w[~m] == 0).all()),
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
