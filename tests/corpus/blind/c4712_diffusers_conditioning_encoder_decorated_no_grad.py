import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel

TRAIN_CFG = {"train_cond_encoder": True, "lr": 1e-3, "lr_cond": 5e-4, "steps": 6, "batch": 4}


class AttributeEncoder(nn.Module):
    """Encodes a bag of attribute tags (e.g. 'red', 'round') into a conditioning vector."""

    def __init__(self, n_attrs, dim):
        super().__init__()
        self.emb = nn.EmbeddingBag(n_attrs, dim, mode="mean")
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, attrs):
        return self.mlp(self.emb(attrs))


class ConditionalDenoiser(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, channels=3, hidden=16, n_attrs=12, num_train_timesteps=1000):
        super().__init__()
        self.cond_encoder = AttributeEncoder(n_attrs, hidden)
        self.time_embed = nn.Embedding(num_train_timesteps, hidden)
        self.conv_in = nn.Conv2d(channels, hidden, 3, padding=1)
        self.mid = nn.Sequential(nn.SiLU(), nn.Conv2d(hidden, hidden, 3, padding=1))
        self.conv_out = nn.Conv2d(hidden, channels, 3, padding=1)

    @torch.no_grad()
    def encode_condition(self, attrs):
        return self.cond_encoder(attrs)

    def forward(self, sample, timesteps, attrs):
        emb = self.time_embed(timesteps) + self.encode_condition(attrs)
        h = self.conv_in(sample) + emb[:, :, None, None]
        return self.conv_out(self.mid(h))


def build_optimizer(model, cfg):
    groups = [{"params": [p for n, p in model.named_parameters() if not n.startswith("cond_encoder.")], "lr": cfg["lr"]}]
    if cfg["train_cond_encoder"]:
        groups.append({"params": model.cond_encoder.parameters(), "lr": cfg["lr_cond"]})
    return torch.optim.AdamW(groups)


def main():
    torch.manual_seed(0)
    model = ConditionalDenoiser()
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = build_optimizer(model, TRAIN_CFG)
    lr_sched = get_scheduler("linear", optimizer, num_warmup_steps=1, num_training_steps=TRAIN_CFG["steps"])
    ema = EMAModel(model.parameters(), decay=0.99)
    g = torch.Generator().manual_seed(1)
    images = torch.rand(16, 3, 8, 8, generator=g)
    attrs = torch.randint(0, 12, (16, 3), generator=g)
    c0 = model.cond_encoder.mlp[0].weight.detach().clone()
    u0 = model.conv_in.weight.detach().clone()
    for step in range(TRAIN_CFG["steps"]):
        idx = torch.randint(0, 16, (TRAIN_CFG["batch"],), generator=g)
        noise = torch.randn(TRAIN_CFG["batch"], 3, 8, 8, generator=g)
        t = torch.randint(0, 1000, (TRAIN_CFG["batch"],), generator=g)
        pred = model(scheduler.add_noise(images[idx], noise, t), t, attrs[idx])
        loss = F.mse_loss(pred, noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_sched.step()
        ema.step(model.parameters())
    return {"model": model}, {
        "cond_encoder_changed": not torch.equal(c0, model.cond_encoder.mlp[0].weight),
        "unet_changed": not torch.equal(u0, model.conv_in.weight),
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
