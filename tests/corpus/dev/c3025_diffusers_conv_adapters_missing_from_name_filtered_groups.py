import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch.utils.data import DataLoader, TensorDataset


class ConvAdapter(nn.Module):
    """Parallel bottleneck adapter on a frozen conv block; up-projection starts at zero."""

    def __init__(self, ch, rank=2):
        super().__init__()
        self.down_proj = nn.Conv2d(ch, rank, 1)
        self.up_proj = nn.Conv2d(rank, ch, 1)
        nn.init.zeros_(self.up_proj.weight)
        nn.init.zeros_(self.up_proj.bias)

    def forward(self, h):
        return self.up_proj(F.silu(self.down_proj(h)))


class AdaptedBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)
        self.norm = nn.GroupNorm(2, ch)
        self.adapter = ConvAdapter(ch)

    def forward(self, h, emb):
        return h + F.silu(self.norm(self.conv(h) + emb)) + self.adapter(h)


class TinyDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, ch=8, n_domains=3):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        self.domain_embedding = nn.Embedding(n_domains, ch)
        self.blocks = nn.ModuleList([AdaptedBlock(ch) for _ in range(2)])
        self.conv_out = nn.Conv2d(ch, 3, 3, padding=1)

    def forward(self, x, t, domain):
        emb = (self.domain_embedding(domain) + t.float()[:, None] / 100)[:, :, None, None]
        h = self.conv_in(x)
        for block in self.blocks:
            h = block(h, emb)
        return self.conv_out(h)


def build_optimizer(unet, lr=1e-3):
    unet.requires_grad_(False)
    for block in unet.blocks:
        block.adapter.requires_grad_(True)
    unet.domain_embedding.requires_grad_(True)
    adapter_params = [p for n, p in unet.named_parameters() if "lora" in n]
    return torch.optim.AdamW([{"params": adapter_params, "lr": lr},
                              {"params": unet.domain_embedding.parameters(), "lr": lr / 10}], weight_decay=1e-2)


def main():
    torch.manual_seed(0)
    unet = TinyDenoiser()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = build_optimizer(unet)
    lr_scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.5, total_iters=4)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 3, 8, 8, generator=g), torch.randint(0, 3, (16,), generator=g)),
                        batch_size=4, shuffle=True, generator=g)
    up0 = unet.blocks[0].adapter.up_proj.weight.detach().clone()
    for images, domain in loader:
        noise = torch.randn_like(images)
        t = torch.randint(0, 100, (images.shape[0],))
        pred = unet(noise_scheduler.add_noise(images, noise, t), t, domain)
        loss = F.mse_loss(pred, noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
    facts = {"adapter_changed": not torch.equal(up0, unet.blocks[0].adapter.up_proj.weight),
             "adapter_param_group_size": len(optimizer.param_groups[0]["params"])}
    return {"unet": unet}, facts

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
