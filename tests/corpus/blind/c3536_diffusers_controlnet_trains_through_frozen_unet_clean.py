import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class PromptEncoder(nn.Module):
    def __init__(self, vocab=30, dim=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, ids):
        return self.proj(self.tok(ids).mean(1))


class BaseUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=3, width=16, cond_dim=16, n_steps=100):
        super().__init__()
        self.t_embed = nn.Embedding(n_steps, width)
        self.cond = nn.Linear(cond_dim, width)
        self.down = nn.Conv2d(channels, width, 3, padding=1)
        self.mid = nn.Conv2d(width, width, 3, padding=1)
        self.up = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, sample, t, text_emb, down_residual=None, mid_residual=None):
        h = F.silu(self.down(sample) + (self.t_embed(t) + self.cond(text_emb))[:, :, None, None])
        if down_residual is not None:
            h = h + down_residual
        h = F.silu(self.mid(h))
        if mid_residual is not None:
            h = h + mid_residual
        return self.up(h)


class ControlBranch(ModelMixin):
    """Trainable copy of the encoder half, fed the conditioning image; zero-initialised outputs."""

    @register_to_config
    def __init__(self, channels=3, width=16):
        super().__init__()
        self.hint = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.SiLU())
        self.down = nn.Conv2d(channels, width, 3, padding=1)
        self.zero_down = nn.Conv2d(width, width, 1)
        self.zero_mid = nn.Conv2d(width, width, 1)
        for conv in (self.zero_down, self.zero_mid):
            nn.init.zeros_(conv.weight)
            nn.init.zeros_(conv.bias)

    def forward(self, sample, hint):
        h = F.silu(self.down(sample) + self.hint(hint))
        return self.zero_down(h), self.zero_mid(h)


def make_loader(n=24, bs=6):
    g = torch.Generator().manual_seed(39)
    imgs = torch.rand(n, 3, 8, 8, generator=g) * 2 - 1
    edges = (imgs.mean(1, keepdim=True) > 0).float()
    ids = torch.randint(0, 30, (n, 4), generator=g)
    return DataLoader(TensorDataset(imgs, edges, ids), batch_size=bs, shuffle=True)


def main():
    torch.manual_seed(0)
    unet, text_encoder = BaseUNet(), PromptEncoder()
    controlnet = ControlBranch()
    unet.requires_grad_(False)
    text_encoder.requires_grad_(False)
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(controlnet.parameters(), lr=1e-3, weight_decay=0.0)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2)
    unet_before = copy.deepcopy(unet.state_dict())
    hint0 = controlnet.hint[0].weight.detach().clone()
    controlnet.train()
    for _ in range(2):
        for imgs, edges, ids in make_loader():
            with torch.no_grad():
                text_emb = text_encoder(ids)
            noise = torch.randn_like(imgs)
            t = torch.randint(0, 100, (imgs.shape[0],))
            noisy = noise_scheduler.add_noise(imgs, noise, t)
            down_res, mid_res = controlnet(noisy, edges)
            pred = unet(noisy, t, text_emb, down_residual=down_res, mid_residual=mid_res)
            loss = F.mse_loss(pred, noise)
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad(set_to_none=False)
    return {"controlnet": controlnet}, {
        "hint_encoder_changed": not torch.equal(hint0, controlnet.hint[0].weight),
        "base_unet_unchanged": all(torch.equal(v, unet.state_dict()[k]) for k, v in unet_before.items()),
        "unet_has_grad": unet.mid.weight.grad is not None,
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
