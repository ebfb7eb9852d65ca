import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config


class PolicyUNet(ModelMixin):
    @register_to_config
    def __init__(self, channels=8):
        super().__init__()
        self.conv_in = nn.Conv2d(3, channels, 3, padding=1)
        self.t_embed = nn.Linear(1, channels)
        self.conv_out = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, x, t):
        h = F.silu(self.conv_in(x)) + self.t_embed(t.float()[:, None] / 100)[:, :, None, None]
        return self.conv_out(h)


class TinyPipeline:
    def __init__(self, unet, scheduler, n_steps=4, sigma=0.1):
        self.unet, self.scheduler, self.n_steps, self.sigma = unet, scheduler, n_steps, sigma

    def step_mean(self, x, t):
        return x - 0.1 * self.unet(x, t)

    @torch.no_grad()
    def sample(self, batch_size, generator):
        x = torch.randn(batch_size, 3, 8, 8, generator=generator)
        traj = [x]
        for i in range(self.n_steps):
            t = torch.full((batch_size,), self.n_steps - i)
            x = self.step_mean(x, t) + self.sigma * torch.randn(x.shape, generator=generator)
            traj.append(x)
        return traj


def log_prob(pipeline, x_prev, x_next, t):
    mean = pipeline.step_mean(x_prev, t)
    return -((x_next - mean) ** 2).sum(dim=(1, 2, 3)) / (2 * pipeline.sigma ** 2)


def brightness_reward(images):
    return images.mean(dim=(1, 2, 3))


def main():
    torch.manual_seed(0)
    pipeline = TinyPipeline(PolicyUNet(), DDPMScheduler(num_train_timesteps=100))
    unet = pipeline.unet
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    w0 = pipeline.unet.conv_in.weight.detach().clone()
    for epoch in range(3):
        traj = pipeline.sample(4, g)
        rewards = brightness_reward(traj[-1])
        adv = (rewards - rewards.mean()) / (rewards.std() + 1e-6)
        loss = 0.0
        for i in range(pipeline.n_steps):
            t = torch.full((4,), pipeline.n_steps - i)
            loss = loss - (adv * log_prob(pipeline, traj[i], traj[i + 1], t)).mean() / pipeline.n_steps
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        optimizer.step()
    return {"unet": unet}, {"pipeline_unet_changed": not torch.equal(w0, pipeline.unet.conv_in.weight),
                            "same_object": unet is pipeline.unet}

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
