import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class ClassCondUNet(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=3, base=8, num_class_embeds=5, emb_dim=16):
        super().__init__()
        self.time_embedding = nn.Sequential(nn.Linear(1, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.class_embedding = nn.Embedding(num_class_embeds, emb_dim)
        self.emb_proj = nn.Linear(emb_dim, base)
        self.conv_in = nn.Conv2d(in_channels, base, 3, padding=1)
        self.down = nn.Conv2d(base, base, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(base, base, 4, stride=2, padding=1)
        self.conv_out = nn.Conv2d(base, in_channels, 3, padding=1)

    def get_embedding(self, timesteps, class_labels):
        emb = self.time_embedding(timesteps.float()[:, None] / 1000.0)
        emb = emb + self.class_embedding(class_labels).detach()
        return self.emb_proj(F.silu(emb))[:, :, None, None]

    def forward(self, sample, timesteps, class_labels):
        h = F.silu(self.conv_in(sample)) + self.get_embedding(timesteps, class_labels)
        h = self.up(F.silu(self.down(h))) + h
        return self.conv_out(F.silu(h))


def validation_loss(unet, noise_scheduler, images, labels):
    unet.eval()
    with torch.no_grad():
        noise = torch.randn_like(images)
        t = torch.full((images.shape[0],), 500)
        pred = unet(noise_scheduler.add_noise(images, noise, t), t, labels)
    unet.train()
    return F.mse_loss(pred, noise).item()


def main():
    torch.manual_seed(0)
    unet = ClassCondUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3, weight_decay=1e-2)
    lr_scheduler = get_scheduler("linear", optimizer, num_warmup_steps=2, num_training_steps=8)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 3, 8, 8, generator=g), torch.randint(0, 5, (16,), generator=g)),
                        batch_size=4, shuffle=True, generator=g)
    e0, c0 = unet.class_embedding.weight.detach().clone(), unet.conv_in.weight.detach().clone()
    for epoch in range(2):
        for images, labels in loader:
            noise = torch.randn_like(images)
            t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (images.shape[0],))
            pred = unet(noise_scheduler.add_noise(images, noise, t), t, labels)
            loss = F.mse_loss(pred, noise)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
            optimizer.step()
            lr_scheduler.step()
    facts = {"class_embedding_changed": not torch.equal(e0, unet.class_embedding.weight),
             "conv_in_changed": not torch.equal(c0, unet.conv_in.weight)}
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
