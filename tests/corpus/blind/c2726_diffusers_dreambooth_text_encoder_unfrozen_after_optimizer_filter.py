import itertools
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler


class TextEncoder(nn.Module):
    def __init__(self, vocab=20, dim=8):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.encoder = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))

    def forward(self, ids):
        return self.encoder(self.token_embedding(ids)).mean(1)


class CondUNet(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, channels=1, width=8, cond_dim=8):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.cond_proj = nn.Linear(cond_dim + 1, width)
        self.mid = nn.Conv2d(width, width, 3, padding=1)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, x, t, cond):
        h = F.silu(self.conv_in(x))
        h = h + self.cond_proj(torch.cat([cond, t[:, None].float() / 100], -1))[:, :, None, None]
        return self.conv_out(F.silu(self.mid(h)))


def build_optimizer(unet, text_encoder, lr):
    params = itertools.chain(unet.parameters(), text_encoder.parameters())
    return torch.optim.AdamW(filter(lambda p: p.requires_grad, params), lr=lr)


def main():
    torch.manual_seed(0)
    instance = torch.rand(4, 1, 8, 8) * 2 - 1
    prompt_ids = torch.tensor([[3, 7, 1, 0]] * 4)
    unet, text_encoder = CondUNet(), TextEncoder()
    text_encoder.requires_grad_(False)
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = build_optimizer(unet, text_encoder, lr=1e-3)
    lr_scheduler = get_scheduler("constant", optimizer)
    train_text_encoder_from_step = 2
    te_before = text_encoder.encoder[0].weight.detach().clone()
    unet_before = unet.mid.weight.detach().clone()
    for step in range(6):
        if step == train_text_encoder_from_step:
            text_encoder.requires_grad_(True)
            text_encoder.train()
        noise = torch.randn_like(instance)
        t = torch.randint(0, 100, (4,))
        pred = unet(noise_scheduler.add_noise(instance, noise, t), t, text_encoder(prompt_ids))
        loss = F.mse_loss(pred, noise)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()
    facts = {"text_encoder_changed": not torch.equal(te_before, text_encoder.encoder[0].weight),
             "unet_changed": not torch.equal(unet_before, unet.mid.weight)}
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
