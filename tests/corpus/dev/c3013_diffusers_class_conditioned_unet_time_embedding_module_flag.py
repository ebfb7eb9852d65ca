import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch.utils.data import DataLoader, TensorDataset


class TimestepEmbedding(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.linear_1 = nn.Linear(dim, 2 * dim)
        self.linear_2 = nn.Linear(2 * dim, 2 * dim)

    def forward(self, t_emb):
        return self.linear_2(F.silu(self.linear_1(t_emb)))


def sinusoidal(t, dim):
    freqs = torch.exp(-torch.arange(dim // 2) * (torch.log(torch.tensor(1e4)) / (dim // 2)))
    ang = t.float()[:, None] * freqs[None]
    return torch.cat([ang.sin(), ang.cos()], -1)


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=8, num_class_embeds=None):
        super().__init__()
        self.conv_in = nn.Conv2d(3, channels, 3, padding=1)
        self.time_embedding = TimestepEmbedding(channels)
        self.class_embedding = nn.Embedding(num_class_embeds, 2 * channels) if num_class_embeds else None
        self.mid = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_out = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, sample, timestep, class_labels=None):
        emb = self.time_embedding(sinusoidal(timestep, self.config.channels))
        if self.class_embedding is not None:
            emb = emb + self.class_embedding(class_labels)
        scale, shift = emb[:, :, None, None].chunk(2, dim=1)
        h = F.silu(self.conv_in(sample))
        h = F.silu(self.mid(h * (1 + scale) + shift))
        return self.conv_out(h)


def prepare_for_class_finetuning(unet):
    """Keep the pretrained convolutions; adapt only the conditioning path."""
    unet.requires_grad_(False)
    unet.time_embedding.requires_grad = True
    unet.class_embedding.requires_grad_(True)
    return [p for p in unet.parameters() if p.requires_grad]


def main():
    torch.manual_seed(0)
    unet = TinyUNet(channels=8, num_class_embeds=4)
    scheduler = DDPMScheduler(num_train_timesteps=100)
    params = prepare_for_class_finetuning(unet)
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    lr_sched = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 3, 8, 8, generator=g), torch.randint(0, 4, (16,), generator=g)),
                        batch_size=4, shuffle=True, generator=g)
    w0 = unet.time_embedding.linear_1.weight.detach().clone()
    c0 = unet.class_embedding.weight.detach().clone()
    for epoch in range(2):
        for images, labels in loader:
            noise = torch.randn_like(images)
            t = torch.randint(0, 100, (images.shape[0],))
            noisy = scheduler.add_noise(images, noise, t)
            loss = F.mse_loss(unet(noisy, t, class_labels=labels), noise)
            loss.backward()
            optimizer.step()
            lr_sched.step()
            optimizer.zero_grad()
    facts = {"time_embedding_changed": not torch.equal(w0, unet.time_embedding.linear_1.weight),
             "class_embedding_changed": not torch.equal(c0, unet.class_embedding.weight)}
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
