import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler

FT_CFG = {"frozen_patterns": ["stem", "embed"], "lr": 2e-3, "steps": 6, "n_tasks": 3}


class TaskHyperNetwork(nn.Module):
    def __init__(self, n_tasks, z_dim, width, out_ch):
        super().__init__()
        self.task_embed = nn.Embedding(n_tasks, z_dim)
        self.shapes = [(out_ch, width, 3, 3), (out_ch,)]
        self.heads = nn.ModuleList(nn.Linear(z_dim, math.prod(s)) for s in self.shapes)
        for h in self.heads:
            nn.init.normal_(h.weight, std=1e-2)

    def forward(self, task_id):
        z = self.task_embed(task_id)
        return [head(z).view(*shape) for head, shape in zip(self.heads, self.shapes)]


class HyperConditionedDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=3, width=16, z_dim=8, n_tasks=3):
        super().__init__()
        self.time_embed = nn.Sequential(nn.Linear(1, width), nn.SiLU(), nn.Linear(width, width))
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1), nn.SiLU(),
                                  nn.Conv2d(width, width, 3, padding=1), nn.SiLU())
        self.hyper = TaskHyperNetwork(n_tasks, z_dim, width, in_channels)

    def forward(self, sample, timesteps, task_id):
        h = self.stem(sample) + self.time_embed(timesteps.float()[:, None] / 1000)[:, :, None, None]
        w, b = self.hyper(task_id)
        return F.conv2d(h, w, b, padding=1)


def freeze_by_patterns(model, patterns):
    frozen = []
    for name, param in model.named_parameters():
        if any(pattern in name for pattern in patterns):
            param.requires_grad = False
            frozen.append(name)
    return frozen


def summarize(model, frozen):
    total = sum(p.numel() for p in model.parameters())
    n_frozen = sum(p.numel() for n, p in model.named_parameters() if n in frozen)
    print(f"frozen {len(frozen)} tensors ({n_frozen}/{total} values): {', '.join(frozen)}")
    return n_frozen / total


@torch.no_grad()
def denoise_preview(model, scheduler, task_id, size=8):
    x = torch.randn(1, 3, size, size)
    for t in (999, 600, 300, 1):
        eps = model(x, torch.tensor([t]), torch.tensor(task_id))
        a = scheduler.alphas_cumprod[t]
        x = (x - (1 - a).sqrt() * eps) / a.sqrt()
    return x


def task_images(n_tasks, per_task=4, size=8):
    g = torch.Generator().manual_seed(0)
    imgs, tasks = [], []
    for t in range(n_tasks):
        base = torch.randn(1, 3, 1, 1, generator=g)
        imgs.append(base + 0.3 * torch.randn(per_task, 3, size, size, generator=g))
        tasks.append(torch.full((per_task,), t))
    return torch.cat(imgs), torch.cat(tasks)


def main():
    torch.manual_seed(0)
    unet = HyperConditionedDenoiser(n_tasks=FT_CFG["n_tasks"])
    frozen = freeze_by_patterns(unet, FT_CFG["frozen_patterns"])
    summarize(unet, frozen)
    trainable = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=FT_CFG["lr"], weight_decay=0.0)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer=optimizer, num_warmup_steps=2)
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    emb0 = unet.hyper.task_embed.weight.detach().clone()
    head0 = unet.hyper.heads[0].weight.detach().clone()
    images, task_ids = task_images(FT_CFG["n_tasks"])
    for step in range(FT_CFG["steps"]):
        noise = torch.randn_like(images)
        timesteps = torch.randint(0, 1000, (images.size(0),))
        noisy = noise_scheduler.add_noise(images, noise, timesteps)
        loss = 0.0
        for t in range(FT_CFG["n_tasks"]):
            sel = task_ids == t
            pred = unet(noisy[sel], timesteps[sel], torch.tensor(t))
            loss = loss + F.mse_loss(pred, noise[sel]) / FT_CFG["n_tasks"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
    denoise_preview(unet, noise_scheduler, task_id=0)
    return {"unet": unet}, {
        "task_embed_changed": not torch.equal(emb0, unet.hyper.task_embed.weight),
        "hyper_heads_changed": not torch.equal(head0, unet.hyper.heads[0].weight),
        "num_frozen": len(frozen),
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
