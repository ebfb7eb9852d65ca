import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler

CFG = {"ch": 16, "img": 16, "timesteps": 100, "lr": 1e-3, "epochs": 2, "sd_locked": False}


class LockedUNet(ModelMixin):
    @register_to_config
    def __init__(self, ch=16, num_timesteps=100):
        super().__init__()
        self.t_embed = nn.Embedding(num_timesteps, ch)
        self.input_blocks = nn.ModuleList([nn.Conv2d(3, ch, 3, padding=1), nn.Conv2d(ch, ch, 3, stride=2, padding=1)])
        self.middle_block = nn.Conv2d(ch, ch, 3, padding=1)
        self.output_blocks = nn.ModuleList([nn.Conv2d(2 * ch, ch, 3, padding=1), nn.Conv2d(ch, 3, 3, padding=1)])

    def forward(self, x, t, control=None):
        h0 = F.silu(self.input_blocks[0](x) + self.t_embed(t)[:, :, None, None])
        h1 = F.silu(self.input_blocks[1](h0))
        h = F.silu(self.middle_block(h1))
        if control is not None:
            h = h + control[1]
            h0 = h0 + control[0]
        h = F.silu(self.output_blocks[0](torch.cat([F.interpolate(h, scale_factor=2.0), h0], 1)))
        return self.output_blocks[1](h)


class ControlNetModel(ModelMixin):
    @register_to_config
    def __init__(self, ch=16, cond_channels=1):
        super().__init__()
        self.cond_embedding = nn.Sequential(nn.Conv2d(cond_channels, ch, 3, padding=1), nn.SiLU())
        self.block0 = nn.Conv2d(3, ch, 3, padding=1)
        self.block1 = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        self.zero0 = nn.Conv2d(ch, ch, 1)
        self.zero1 = nn.Conv2d(ch, ch, 1)
        for z in (self.zero0, self.zero1):
            nn.init.zeros_(z.weight)
            nn.init.zeros_(z.bias)

    def forward(self, x, cond):
        h0 = F.silu(self.block0(x) + self.cond_embedding(cond))
        h1 = F.silu(self.block1(h0))
        return [self.zero0(h0), self.zero1(h1)]


def collect_control_residuals(controlnet, noisy, cond):
    """Run the ControlNet and hand its residuals to the UNet (kept off the UNet's autograd tape to save memory)."""
    return [r.detach() for r in controlnet(noisy, cond)]


def main():
    torch.manual_seed(0)
    unet = LockedUNet(ch=CFG["ch"], num_timesteps=CFG["timesteps"])
    controlnet = ControlNetModel(ch=CFG["ch"])
    unet.requires_grad_(False)
    params = list(controlnet.parameters())
    if not CFG["sd_locked"]:
        unet.output_blocks.requires_grad_(True)
        params += list(unet.output_blocks.parameters())
    optimizer = torch.optim.AdamW(params, lr=CFG["lr"])
    g = torch.Generator().manual_seed(0)
    imgs = torch.rand(16, 3, CFG["img"], CFG["img"], generator=g) * 2 - 1
    cond = (imgs.mean(1, keepdim=True) > 0).float()
    loader = DataLoader(TensorDataset(imgs, cond), batch_size=4, shuffle=True, generator=g)
    noise_scheduler = DDPMScheduler(num_train_timesteps=CFG["timesteps"])
    lr_scheduler = get_scheduler("constant", optimizer)
    z0 = controlnet.zero0.weight.detach().clone()
    out0 = unet.output_blocks[0].weight.detach().clone()
    for _ in range(CFG["epochs"]):
        for x, c in loader:
            noise = torch.randn_like(x)
            t = torch.randint(0, CFG["timesteps"], (x.shape[0],))
            noisy = noise_scheduler.add_noise(x, noise, t)
            pred = unet(noisy, t, control=collect_control_residuals(controlnet, noisy, c))
            loss = F.mse_loss(pred, noise)
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
    return {"controlnet": controlnet}, {
        "controlnet_changed": not torch.equal(z0, controlnet.zero0.weight),
        "unet_decoder_changed": not torch.equal(out0, unet.output_blocks[0].weight),
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
