import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class TextEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.mix = nn.Linear(dim, dim)

    def forward(self, ids):
        return self.mix(self.tok(ids)).mean(1)


class TinyCondUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=3, width=16, cond_dim=16, n_steps=100):
        super().__init__()
        self.time_embed = nn.Embedding(n_steps, width)
        self.cond_proj = nn.Linear(cond_dim, width)
        self.inp = nn.Conv2d(channels, width, 3, padding=1)
        self.mid = nn.Sequential(nn.SiLU(), nn.Conv2d(width, width, 3, padding=1), nn.SiLU())
        self.out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, sample, timesteps, encoder_hidden_states):
        emb = self.time_embed(timesteps) + self.cond_proj(encoder_hidden_states)
        h = self.inp(sample) + emb[:, :, None, None]
        return self.out(self.mid(h))


def make_loader(n=24, bs=6):
    g = torch.Generator().manual_seed(17)
    imgs = torch.rand(n, 3, 8, 8, generator=g) * 2 - 1
    ids = torch.randint(0, 50, (n, 5), generator=g)
    return DataLoader(TensorDataset(imgs, ids), batch_size=bs, shuffle=True)


def main():
    torch.manual_seed(0)
    text_encoder = TextEncoder()
    unet = TinyCondUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    text_encoder.requires_grad_(False)
    text_encoder.eval()
    ema_unet = EMAModel(unet.parameters(), decay=0.999)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3, weight_decay=1e-2)
    lr_scheduler = get_scheduler("linear", optimizer, num_warmup_steps=2, num_training_steps=8)
    te0 = text_encoder.mix.weight.detach().clone()
    un0 = unet.inp.weight.detach().clone()
    unet.train()
    for _ in range(2):
        for imgs, ids in make_loader():
            with torch.no_grad():
                cond = text_encoder(ids)
            noise = torch.randn_like(imgs)
            t = torch.randint(0, 100, (imgs.shape[0],))
            noisy = noise_scheduler.add_noise(imgs, noise, t)
            loss = F.mse_loss(unet(noisy, t, cond), noise)
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            ema_unet.step(unet.parameters())
            optimizer.zero_grad(set_to_none=False)
    return {"unet": unet}, {
        "unet_changed": not torch.equal(un0, unet.inp.weight),
        "text_encoder_unchanged": torch.equal(te0, text_encoder.mix.weight),
        "ema_steps": ema_unet.optimization_step,
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
