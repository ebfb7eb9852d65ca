import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel


class TextEncoder(nn.Module):
    def __init__(self, vocab=30, dim=12):
        super().__init__()
        self.tok, self.proj = nn.Embedding(vocab, dim), nn.Linear(dim, dim)

    def forward(self, ids):
        return self.proj(self.tok(ids).mean(1))


class PromptUNet(ModelMixin):
    @register_to_config
    def __init__(self, cond_dim=12, hidden=16):
        super().__init__()
        self.null_cond = nn.Parameter(torch.zeros(cond_dim))
        self.inp, self.cond = nn.Conv2d(1, hidden, 3, padding=1), nn.Linear(cond_dim, hidden)
        self.out = nn.Conv2d(hidden, 1, 3, padding=1)

    def forward(self, x, t, cond, drop_mask):
        cond = torch.where(drop_mask[:, None], self.null_cond.expand_as(cond), cond)
        return self.out(F.silu(self.inp(x) + self.cond(cond)[:, :, None, None] + (t.float() / 1000)[:, None, None, None]))


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    text_encoder = TextEncoder()
    text_encoder.requires_grad_(False)
    text_encoder.eval()
    unet = PromptUNet()
    sched = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    lr_sched = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2)
    ema = EMAModel(unet.parameters(), decay=0.99)
    te0, null0 = text_encoder.proj.weight.clone(), unet.null_cond.detach().clone()
    for _ in range(6):
        images = torch.randn(8, 1, 8, 8, generator=g)
        with torch.no_grad():
            cond = text_encoder(torch.randint(1, 30, (8, 5), generator=g))
        noise, t = torch.randn(images.shape, generator=g), torch.randint(0, 1000, (8,), generator=g)
        drop = torch.rand(8, generator=g) < 0.3
        loss = F.mse_loss(unet(sched.add_noise(images, noise, t), t, cond, drop), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_sched.step()
        ema.step(unet.parameters())
    return {"unet": unet}, {"text_encoder_changed": not torch.equal(te0, text_encoder.proj.weight),
                            "null_cond_changed": not torch.equal(null0, unet.null_cond)}

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
