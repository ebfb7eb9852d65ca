import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler


class ResNetTiny(nn.Module):
    """Stands in for an ImageNet-pretrained ResNet-18 trunk."""

    def __init__(self, out_dim=16):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 16, 3), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, out_dim)

    def forward(self, img):
        return self.fc(self.pool(self.conv(img)).flatten(1))


class ObsConditionedDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, obs_dim=16, proprio_dim=4, action_dim=2, horizon=6, hidden=48, num_train_timesteps=50):
        super().__init__()
        self.t_embed = nn.Embedding(num_train_timesteps, hidden)
        self.cond = nn.Linear(obs_dim + proprio_dim, hidden)
        self.net = nn.Sequential(nn.Linear(horizon * action_dim + hidden, hidden), nn.Mish(), nn.Linear(hidden, horizon * action_dim))
        self.horizon, self.action_dim = horizon, action_dim

    def forward(self, noisy, t, obs_feat):
        c = self.cond(obs_feat) + self.t_embed(t)
        out = self.net(torch.cat([noisy.flatten(1), c], -1))
        return out.view(-1, self.horizon, self.action_dim)


def load_frozen_vision_encoder():
    encoder = ResNetTiny()
    encoder.requires_grad_(False)
    encoder.eval()
    return encoder


def episodes(n_batches=6, b=4):
    g = torch.Generator().manual_seed(0)
    for _ in range(n_batches):
        yield torch.rand(b, 3, 12, 12, generator=g), torch.randn(b, 4, generator=g), torch.rand(b, 6, 2, generator=g) * 2 - 1


def main():
    torch.manual_seed(0)
    vision = load_frozen_vision_encoder()
    denoiser = ObsConditionedDenoiser()
    scheduler = DDPMScheduler(num_train_timesteps=50, beta_schedule="scaled_linear")
    optimizer = torch.optim.AdamW([p for p in denoiser.parameters() if p.requires_grad], lr=1e-3)
    lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=1, num_training_steps=6)
    v0 = vision.fc.weight.detach().clone()
    c0 = denoiser.cond.weight.detach().clone()
    denoiser.train()
    for img, proprio, actions in episodes():
        obs_feat = torch.cat([vision(img), proprio], -1)
        noise = torch.randn_like(actions)
        t = torch.randint(0, 50, (actions.size(0),))
        loss = F.mse_loss(denoiser(scheduler.add_noise(actions, noise, t), t, obs_feat), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
    return {"denoiser": denoiser, "vision": vision}, {
        "vision_unchanged": torch.equal(v0, vision.fc.weight),
        "denoiser_changed": not torch.equal(c0, denoiser.cond.weight),
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
