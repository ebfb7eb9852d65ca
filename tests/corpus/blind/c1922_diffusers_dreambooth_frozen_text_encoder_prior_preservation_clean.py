import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from torch.utils.data import DataLoader, TensorDataset


class PromptEncoder(nn.Module):
    """Stand-in for the frozen CLIP text encoder."""

    def __init__(self, vocab=30, dim=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, ids):
        return self.proj(self.tok(ids))


class CondUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, width=16, cond_dim=16):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.t_proj = nn.Linear(1, width)
        self.cross = nn.Linear(cond_dim, width)
        self.conv_mid = nn.Conv2d(width, width, 3, padding=1)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, x, t, cond):
        h = self.conv_in(x) + self.t_proj(t.float()[:, None] / 1000)[:, :, None, None]
        h = h + self.cross(cond.mean(dim=1))[:, :, None, None]
        return self.conv_out(F.silu(self.conv_mid(F.silu(h))))


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    text_encoder = PromptEncoder()
    text_encoder.requires_grad_(False)
    text_encoder.eval()
    unet = CondUNet()
    scheduler = DDPMScheduler(num_train_timesteps=200)
    instance = torch.randn(8, 4, 8, 8)          # latents of the 4-8 subject photos
    class_prior = torch.randn(8, 4, 8, 8)       # latents of generated "a photo of a dog" images
    instance_ids = torch.randint(0, 30, (8, 5))  # "a photo of sks dog"
    class_ids = torch.randint(0, 30, (8, 5))
    loader = DataLoader(TensorDataset(instance, instance_ids, class_prior, class_ids), batch_size=2, shuffle=True)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=5e-4)
    unet, optimizer, loader = accelerator.prepare(unet, optimizer, loader)
    w0 = unet.cross.weight.detach().clone()
    prior_weight = 1.0
    for epoch in range(2):
        for inst, inst_ids, prior, prior_ids in loader:
            latents = torch.cat([inst, prior])
            with torch.no_grad():
                cond = text_encoder(torch.cat([inst_ids, prior_ids]))
            noise = torch.randn_like(latents)
            t = torch.randint(0, 200, (latents.size(0),))
            pred = unet(scheduler.add_noise(latents, noise, t), t, cond)
            pred_inst, pred_prior = pred.chunk(2)
            noise_inst, noise_prior = noise.chunk(2)
            loss = F.mse_loss(pred_inst, noise_inst) + prior_weight * F.mse_loss(pred_prior, noise_prior)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
    accelerator.backward(F.mse_loss(unet(scheduler.add_noise(latents, noise, t), t, cond), noise))
    return ({"unet": unet, "text_encoder": text_encoder},
            {"unet_changed": not torch.equal(w0, unet.cross.weight)})

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
