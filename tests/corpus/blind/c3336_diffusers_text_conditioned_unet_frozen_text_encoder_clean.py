import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class TextEncoder(nn.Module):
    def __init__(self, vocab=30, dim=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.layer = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)

    def forward(self, ids):
        return self.layer(self.tok(ids))


class CrossAttnUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, width=16, cond_dim=16, num_timesteps=50):
        super().__init__()
        self.t_embed = nn.Embedding(num_timesteps, width)
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.attn = nn.MultiheadAttention(width, 2, kdim=cond_dim, vdim=cond_dim, batch_first=True)
        self.norm = nn.GroupNorm(4, width)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states):
        h = self.conv_in(sample) + self.t_embed(timestep)[:, :, None, None]
        b, c, hh, ww = h.shape
        seq = h.flatten(2).transpose(1, 2)
        attn, _ = self.attn(seq, encoder_hidden_states, encoder_hidden_states)
        h = h + attn.transpose(1, 2).reshape(b, c, hh, ww)
        return self.conv_out(F.silu(self.norm(h)))


def caption_latents(n=24):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 30, (n, 5), generator=g)
    latents = torch.randn(n, 4, 4, 4, generator=g) * 0.5 + (ids[:, :1, None, None] % 4).float() * 0.2
    return TensorDataset(latents, ids)


def main():
    torch.manual_seed(0)
    text_encoder, unet = TextEncoder(), CrossAttnUNet()
    text_encoder.requires_grad_(False)
    text_encoder.eval()
    noise_scheduler = DDPMScheduler(num_train_timesteps=50)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3, weight_decay=1e-2)
    loader = DataLoader(caption_latents(), batch_size=8, shuffle=True)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2, num_training_steps=6)
    for epoch in range(2):
        for latents, ids in loader:
            with torch.no_grad():
                cond = text_encoder(ids)
            noise = torch.randn_like(latents)
            t = torch.randint(0, 50, (latents.size(0),))
            pred = unet(noise_scheduler.add_noise(latents, noise, t), t, cond)
            loss = F.mse_loss(pred, noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
    return {"unet": unet, "text_encoder": text_encoder}

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
