import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, Dataset


class TinyTextEncoder(nn.Module):
    def __init__(self, vocab=32, dim=16):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.position_embedding = nn.Parameter(torch.zeros(8, dim))
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.final_layer_norm = nn.LayerNorm(dim)

    def forward(self, input_ids):
        h = self.token_embedding(input_ids) + self.position_embedding[: input_ids.shape[1]]
        return (self.final_layer_norm(h + self.mlp(h)),)


class CondUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, cross_dim=16, width=16):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.time_proj = nn.Linear(1, width)
        self.to_k = nn.Linear(cross_dim, width)
        self.to_v = nn.Linear(cross_dim, width)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states):
        h = self.conv_in(sample) + self.time_proj(timestep.float()[:, None] / 100)[:, :, None, None]
        b, c, hh, ww = h.shape
        q = h.flatten(2).transpose(1, 2)
        attn = torch.softmax(q @ self.to_k(encoder_hidden_states).transpose(1, 2) / c ** 0.5, dim=-1)
        h = h + (attn @ self.to_v(encoder_hidden_states)).transpose(1, 2).reshape(b, c, hh, ww)
        return self.conv_out(F.silu(h))


class InstanceDataset(Dataset):
    def __init__(self, n=8, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.latents = torch.randn(n, 4, 8, 8, generator=g)
        self.prompt_ids = torch.randint(0, 32, (n, 6), generator=g)

    def __len__(self):
        return len(self.latents)

    def __getitem__(self, i):
        return {"latents": self.latents[i], "input_ids": self.prompt_ids[i]}


@torch.no_grad()
def encode_prompt(text_encoder, input_ids):
    prompt_embeds = text_encoder(input_ids)
    return prompt_embeds[0]


def main(train_text_encoder=True):
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=1)
    text_encoder, unet = TinyTextEncoder(), CondUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    text_encoder.requires_grad_(train_text_encoder)
    params_to_optimize = (itertools.chain(unet.parameters(), text_encoder.parameters())
                          if train_text_encoder else unet.parameters())
    optimizer = torch.optim.AdamW(params_to_optimize, lr=5e-4)
    lr_scheduler = get_scheduler("constant", optimizer)
    loader = DataLoader(InstanceDataset(), batch_size=4, shuffle=True)
    unet, text_encoder, optimizer, loader, lr_scheduler = accelerator.prepare(
        unet, text_encoder, optimizer, loader, lr_scheduler)
    unet.train()
    text_encoder.train()
    for batch in loader:
        with accelerator.accumulate(unet):
            optimizer.zero_grad()
            latents = batch["latents"]
            noise = torch.randn_like(latents)
            timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],))
            noisy_latents = noise_scheduler.add_noise(latents, noise, timesteps)
            encoder_hidden_states = encode_prompt(text_encoder, batch["input_ids"])
            model_pred = unet(noisy_latents, timesteps, encoder_hidden_states)
            loss = F.mse_loss(model_pred.float(), noise.float(), reduction="mean")
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
    return {"text_encoder": text_encoder, "unet": unet}

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
