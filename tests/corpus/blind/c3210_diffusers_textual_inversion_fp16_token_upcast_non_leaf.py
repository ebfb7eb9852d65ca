import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler


class TinyTextEncoder(nn.Module):
    def __init__(self, vocab=20, dim=8):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, token_embeds):
        return self.proj(token_embeds).mean(1)


class CondDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, ch=8, cond_dim=8):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        self.cond = nn.Linear(cond_dim, ch)
        self.conv_out = nn.Conv2d(ch, 3, 3, padding=1)

    def forward(self, x, t, cond):
        h = F.silu(self.conv_in(x) + self.cond(cond)[:, :, None, None])
        return self.conv_out(h)


def init_placeholder(text_encoder, init_token_id):
    init_vec = text_encoder.token_embedding.weight[init_token_id].detach().clone()
    placeholder = torch.tensor(init_vec.tolist(), dtype=torch.float16, requires_grad=True)
    return placeholder.float()


def encode_prompt(text_encoder, prompt_ids, placeholder, placeholder_pos):
    embeds = text_encoder.token_embedding(prompt_ids).float()
    mask = F.one_hot(torch.tensor(placeholder_pos), prompt_ids.size(1)).float()[None, :, None]
    embeds = embeds * (1 - mask) + placeholder[None, None, :] * mask
    return text_encoder(embeds)


def main():
    torch.manual_seed(0)
    text_encoder = TinyTextEncoder().half()
    text_encoder.proj.float()
    unet = CondDenoiser()
    text_encoder.requires_grad_(False)
    unet.requires_grad_(False)
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    placeholder = init_placeholder(text_encoder, init_token_id=3)
    optimizer = torch.optim.AdamW([placeholder], lr=5e-3)
    lr_scheduler = get_scheduler("constant", optimizer)
    g = torch.Generator().manual_seed(0)
    images = torch.randn(4, 3, 8, 8, generator=g)
    prompt_ids = torch.randint(0, 20, (4, 5), generator=g)
    for step in range(3):
        noise = torch.randn_like(images)
        t = torch.randint(0, 100, (4,))
        cond = encode_prompt(text_encoder, prompt_ids, placeholder, placeholder_pos=1)
        loss = F.mse_loss(unet(noise_scheduler.add_noise(images, noise, t), t, cond), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
    return {"placeholder": placeholder}

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
