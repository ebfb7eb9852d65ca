import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler
from torch.utils.data import DataLoader, TensorDataset


class TinyVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(3, 4, 4, stride=4)

    def encode(self, x):
        return self.enc(x)


class TinyTextEncoder(nn.Module):
    def __init__(self, vocab=40, dim=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.proj = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim))

    def forward(self, ids):
        return self.proj(self.embed(ids))


class TinyUNet(nn.Module):
    def __init__(self, ch=4, cond=16):
        super().__init__()
        self.conv_in = nn.Conv2d(ch, 16, 3, padding=1)
        self.cond = nn.Linear(cond, 16)
        self.conv_out = nn.Conv2d(16, ch, 3, padding=1)

    def forward(self, x, t, encoder_hidden_states):
        h = self.conv_in(x) + self.cond(encoder_hidden_states.mean(1))[:, :, None, None]
        return self.conv_out(F.silu(h + (t.float() / 1000)[:, None, None, None]))


def main(train_text_encoder=True):
    set_seed(0)
    accelerator = Accelerator()
    vae, text_encoder, unet = TinyVAE(), TinyTextEncoder(), TinyUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    vae.requires_grad_(False)
    if not train_text_encoder:
        text_encoder.requires_grad_(False)
    params_to_optimize = (itertools.chain(unet.parameters(), text_encoder.parameters())
                          if train_text_encoder else unet.parameters())
    optimizer = torch.optim.AdamW(params_to_optimize, lr=5e-3)
    pixels, ids = torch.rand(8, 3, 16, 16) * 2 - 1, torch.randint(0, 40, (8, 5))
    loader = DataLoader(TensorDataset(pixels, ids), batch_size=4, shuffle=True)
    unet, text_encoder, optimizer, loader = accelerator.prepare(unet, text_encoder, optimizer, loader)
    te0 = text_encoder.proj[1].weight.detach().clone()
    unet.train()
    text_encoder.train()
    for pixel_values, input_ids in loader:
        with torch.no_grad():
            latents = vae.encode(pixel_values) * 0.18215
            encoder_hidden_states = text_encoder(input_ids)
        noise = torch.randn_like(latents)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.size(0),))
        noisy_latents = noise_scheduler.add_noise(latents, noise, timesteps)
        model_pred = unet(noisy_latents, timesteps, encoder_hidden_states)
        loss = F.mse_loss(model_pred.float(), noise.float(), reduction="mean")
        accelerator.backward(loss)
        optimizer.step()
    return ({"unet": unet, "text_encoder": text_encoder},
            {"text_encoder_changed": not torch.equal(te0, text_encoder.proj[1].weight)})

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
