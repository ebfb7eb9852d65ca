import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch.utils.data import DataLoader, TensorDataset


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=8, time_dim=16):
        super().__init__()
        self.time_embed = nn.Sequential(nn.Linear(1, time_dim), nn.SiLU(), nn.Linear(time_dim, channels))
        self.down = nn.Conv2d(3, channels, 3, stride=2, padding=1)
        self.mid = nn.Conv2d(channels, channels, 3, padding=1)
        self.up = nn.ConvTranspose2d(channels, 3, 4, stride=2, padding=1)
        self.adapters = nn.ModuleList()

    def forward(self, sample, timestep, cond=None):
        t = self.time_embed(timestep.float()[:, None] / 1000.0)[:, :, None, None]
        h = F.silu(self.down(sample)) + t
        for adapter in self.adapters:
            h = h + adapter(cond)
        return self.up(F.silu(self.mid(h)))


def inject_adapters(unet, channels=8):
    unet.adapters.append(nn.Sequential(nn.Conv2d(1, channels, 3, stride=2, padding=1), nn.SiLU(),
                                       nn.Conv2d(channels, channels, 1)))
    return unet


def prepare_unet(pretrained):
    unet = inject_adapters(pretrained)
    unet.requires_grad_(False)
    return unet


def main():
    torch.manual_seed(0)
    unet = prepare_unet(TinyUNet())
    time_head = nn.Linear(3, 3)
    params = [p for p in list(unet.parameters()) + list(time_head.parameters()) if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    scheduler = DDPMScheduler(num_train_timesteps=100)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 3, 8, 8, generator=g), torch.rand(16, 1, 8, 8, generator=g)),
                        batch_size=4, shuffle=True, generator=g)
    a0 = unet.adapters[0][0].weight.detach().clone()
    for images, edges in loader:
        noise = torch.randn_like(images)
        t = torch.randint(0, 100, (images.shape[0],))
        noisy = scheduler.add_noise(images, noise, t)
        pred = unet(noisy, t, cond=edges)
        pred = pred + time_head(pred.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        loss = F.mse_loss(pred, noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    facts = {"adapter_trainable_params": sum(p.numel() for p in unet.adapters.parameters() if p.requires_grad),
             "adapter_changed": not torch.equal(a0, unet.adapters[0][0].weight)}
    return {"adapter": unet.adapters[0], "time_head": time_head}, facts

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
