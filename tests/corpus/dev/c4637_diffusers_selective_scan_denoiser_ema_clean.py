import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel

RUN = {"length": 24, "batch": 8, "steps": 6, "lr": 2e-3, "ema_decay": 0.9}


class SelectiveScanBlock(nn.Module):
    def __init__(self, d_model, d_state=4, dt_rank=4):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.in_proj = nn.Linear(d_model, 2 * d_model)
        self.x_proj = nn.Linear(d_model, dt_rank + 2 * d_state)
        self.dt_proj = nn.Linear(dt_rank, d_model)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1).float()).repeat(d_model, 1))
        self.out_proj = nn.Linear(d_model, d_model)
        self.d_state, self.dt_rank = d_state, dt_rank

    def forward(self, x):
        u, gate = self.in_proj(self.norm(x)).chunk(2, dim=-1)
        u = F.silu(u)
        dt, Bm, Cm = self.x_proj(u).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        dt = F.softplus(self.dt_proj(dt))                       # (B, L, D)
        A = -self.A_log.exp()                                   # (D, N)
        h = x.new_zeros(x.size(0), x.size(2), self.d_state)
        ys = []
        for t in range(x.size(1)):
            dA = torch.exp(dt[:, t].unsqueeze(-1) * A)
            h = dA * h + dt[:, t].unsqueeze(-1) * Bm[:, t].unsqueeze(1) * u[:, t].unsqueeze(-1)
            ys.append((h * Cm[:, t].unsqueeze(1)).sum(-1))
        y = torch.stack(ys, dim=1) * F.silu(gate)
        return x + self.out_proj(y)


class ScanDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, channels=1, d_model=16, num_blocks=2):
        super().__init__()
        self.inp = nn.Linear(channels, d_model)
        self.time = nn.Sequential(nn.Linear(1, d_model), nn.SiLU(), nn.Linear(d_model, d_model))
        self.blocks = nn.ModuleList(SelectiveScanBlock(d_model) for _ in range(num_blocks))
        self.out = nn.Linear(d_model, channels)

    def forward(self, sample, timesteps):
        h = self.inp(sample) + self.time(timesteps.float()[:, None, None] / 1000)
        for blk in self.blocks:
            h = blk(h)
        return self.out(h)


@torch.no_grad()
def preview(model, scheduler, length, n=2):
    x = torch.randn(n, length, 1)
    for t in [999, 500, 1]:
        eps = model(x, torch.full((n,), t))
        a = scheduler.alphas_cumprod[t]
        x = (x - (1 - a).sqrt() * eps) / a.sqrt()
    return x.clamp(-3, 3)


def waveforms(cfg):
    g = torch.Generator().manual_seed(0)
    t = torch.linspace(0, 1, cfg["length"])
    freq = torch.randint(1, 4, (cfg["batch"], 1), generator=g).float()
    return torch.sin(2 * torch.pi * freq * t).unsqueeze(-1)


def main():
    torch.manual_seed(0)
    model = ScanDenoiser()
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(model.parameters(), lr=RUN["lr"])
    lr_scheduler = get_scheduler("constant", optimizer=optimizer)
    ema = EMAModel(model.parameters(), decay=RUN["ema_decay"])
    w0 = model.blocks[0].in_proj.weight.detach().clone()
    clean = waveforms(RUN)
    for step in range(RUN["steps"]):
        noise = torch.randn_like(clean)
        timesteps = torch.randint(0, 1000, (clean.size(0),))
        noisy = scheduler.add_noise(clean, noise, timesteps)
        loss = F.mse_loss(model(noisy, timesteps), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        ema.step(model.parameters())
        print(f"step {step} loss {loss.item():.4f}")
    ema_model = copy.deepcopy(model)
    ema.copy_to(ema_model.parameters())
    preview(ema_model, scheduler, RUN["length"])
    return {"model": model}, {
        "in_proj_changed": not torch.equal(w0, model.blocks[0].in_proj.weight),
        "ema_differs_from_online": not torch.equal(ema_model.blocks[0].in_proj.weight, model.blocks[0].in_proj.weight),
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
