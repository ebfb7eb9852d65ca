import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler

CFG = {"ch": 16, "hint_ch": 1, "img": 16, "lr": 1e-3, "epochs": 2, "timesteps": 100}


def zero_conv(ch):
    conv = nn.Conv2d(ch, ch, 1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=3, ch=16, num_timesteps=100):
        super().__init__()
        self.time_embed = nn.Embedding(num_timesteps, ch)
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)
        self.encoder = nn.ModuleList([
            nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.SiLU()),
            nn.Sequential(nn.Conv2d(ch, ch, 3, stride=2, padding=1), nn.SiLU()),
        ])
        self.mid = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.SiLU())
        self.up = nn.Upsample(scale_factor=2)
        self.dec = nn.Sequential(nn.Conv2d(2 * ch, ch, 3, padding=1), nn.SiLU())
        self.conv_out = nn.Conv2d(ch, in_channels, 3, padding=1)

    def forward(self, x, t, down_residuals=None, mid_residual=None):
        h = self.conv_in(x) + self.time_embed(t)[:, :, None, None]
        skips = []
        for i, block in enumerate(self.encoder):
            h = block(h)
            if down_residuals is not None:
                h = h + down_residuals[i]
            skips.append(h)
        h = self.mid(h)
        if mid_residual is not None:
            h = h + mid_residual
        h = self.dec(torch.cat([self.up(h), skips[0]], 1))
        return self.conv_out(h)


class ControlNet(ModelMixin):
    """Trainable copy of the UNet encoder, fed with the condition through zero convolutions."""

    def __init__(self, ch, hint_ch):
        super().__init__()
        self.hint_encoder = nn.Sequential(nn.Conv2d(hint_ch, ch, 3, padding=1), nn.SiLU(), zero_conv(ch))
        self.zero_convs = nn.ModuleList([zero_conv(ch), zero_conv(ch)])
        self.mid_zero_conv = zero_conv(ch)

    @classmethod
    def from_unet(cls, unet, hint_ch):
        net = cls(unet.config.ch, hint_ch)
        net.time_embed = copy.deepcopy(unet.time_embed)
        net.conv_in = copy.deepcopy(unet.conv_in)
        net.encoder = copy.deepcopy(unet.encoder)
        net.mid = copy.deepcopy(unet.mid)
        return net

    def forward(self, x, t, hint):
        h = self.conv_in(x) + self.time_embed(t)[:, :, None, None] + self.hint_encoder(hint)
        residuals = []
        for block, zc in zip(self.encoder, self.zero_convs):
            h = block(h)
            residuals.append(zc(h))
        return residuals, self.mid_zero_conv(self.mid(h))


def edge_hint_loader(cfg, n=24):
    g = torch.Generator().manual_seed(0)
    imgs = torch.rand(n, 3, cfg["img"], cfg["img"], generator=g) * 2 - 1
    hints = (imgs.mean(1, keepdim=True).diff(dim=-1, prepend=imgs[:, :1, :, :1]).abs() > 0.3).float()
    return DataLoader(TensorDataset(imgs, hints), batch_size=8, shuffle=True, generator=g)


def train_controlnet(unet, controlnet, loader, cfg):
    noise_scheduler = DDPMScheduler(num_train_timesteps=cfg["timesteps"])
    optimizer = torch.optim.AdamW(controlnet.parameters(), lr=cfg["lr"])
    lr_scheduler = get_scheduler("constant", optimizer)
    for _ in range(cfg["epochs"]):
        for imgs, hints in loader:
            noise = torch.randn_like(imgs)
            t = torch.randint(0, cfg["timesteps"], (imgs.shape[0],))
            noisy = noise_scheduler.add_noise(imgs, noise, t)
            down, mid = controlnet(noisy, t, hints)
            pred = unet(noisy, t, down_residuals=down, mid_residual=mid)
            loss = F.mse_loss(pred, noise)
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    unet = TinyUNet(ch=CFG["ch"], num_timesteps=CFG["timesteps"])
    unet.requires_grad_(False)
    controlnet = ControlNet.from_unet(unet, CFG["hint_ch"])
    controlnet.train()
    enc0 = controlnet.encoder[0][0].weight.detach().clone()
    zc0 = controlnet.zero_convs[0].weight.detach().clone()
    train_controlnet(unet, controlnet, edge_hint_loader(CFG), CFG)
    return {"controlnet": controlnet}, {
        "controlnet_encoder_changed": not torch.equal(enc0, controlnet.encoder[0][0].weight),
        "zero_convs_changed": not torch.equal(zc0, controlnet.zero_convs[0].weight),
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
