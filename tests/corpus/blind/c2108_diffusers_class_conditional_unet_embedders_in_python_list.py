import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler


class SinusoidalTime(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, t):
        half = self.dim // 2
        freqs = torch.exp(-torch.arange(half) * (4.0 / half))
        args = t.float()[:, None] * freqs[None]
        return torch.cat([args.sin(), args.cos()], dim=-1)


class ConditionalDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, hidden=32, n_classes=5, n_styles=3):
        super().__init__()
        self.time = nn.Sequential(SinusoidalTime(hidden), nn.Linear(hidden, hidden), nn.SiLU())
        self.embedders = [nn.Embedding(n_classes, hidden), nn.Embedding(n_styles, hidden)]
        self.inp = nn.Linear(channels, hidden)
        self.mid = nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.out = nn.Linear(hidden, channels)

    def condition(self, class_labels, style_labels):
        return sum(emb(lbl) for emb, lbl in zip(self.embedders, (class_labels, style_labels)))

    def forward(self, x, t, class_labels, style_labels):
        h = self.inp(x) + self.time(t) + self.condition(class_labels, style_labels)
        return self.out(self.mid(h))


def main():
    torch.manual_seed(0)
    model = ConditionalDenoiser()
    class_table0 = model.embedders[0].weight.detach().clone()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    lr_sched = get_scheduler("linear", optimizer, num_warmup_steps=1, num_training_steps=4)
    noise_sched = DDPMScheduler(num_train_timesteps=50)
    x0 = torch.randn(32, 4)
    cls, sty = torch.randint(0, 5, (32,)), torch.randint(0, 3, (32,))
    for step in range(4):
        sl = slice(step * 8, (step + 1) * 8)
        noise = torch.randn(8, 4)
        t = torch.randint(0, 50, (8,))
        loss = F.mse_loss(model(noise_sched.add_noise(x0[sl], noise, t), t, cls[sl], sty[sl]), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_sched.step()
    return ({"model": model, "class_embedder": model.embedders[0]},
            {"class_embeddings_changed": not torch.equal(class_table0, model.embedders[0].weight),
             "embedders_in_state_dict": any(k.startswith("embedders") for k in model.state_dict())})

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
