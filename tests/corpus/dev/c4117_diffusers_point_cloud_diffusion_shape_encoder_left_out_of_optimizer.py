import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler


class PartialShapeEncoder(ModelMixin):
    """PointNet encoder of the observed partial scan; its code conditions the completion model."""

    @register_to_config
    def __init__(self, code_dim=32):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, code_dim))

    def forward(self, partial):
        return self.mlp(partial).max(dim=1).values


class PointDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, code_dim=32, hidden=64, num_train_timesteps=100):
        super().__init__()
        self.time_embed = nn.Embedding(num_train_timesteps, hidden)
        self.inp = nn.Linear(3, hidden)
        self.cond = nn.Linear(code_dim, hidden)
        self.mid = nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 3))

    def forward(self, noisy_points, timesteps, shape_code):
        h = self.inp(noisy_points) + self.time_embed(timesteps)[:, None] + self.cond(shape_code)[:, None]
        return self.mid(h)


def build_optimizer(denoiser, encoder, cfg):
    decay, no_decay = [], []
    for name, p in denoiser.named_parameters():
        (no_decay if name.endswith("bias") or "embed" in name else decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg["weight_decay"]},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg["lr"])


def completion_batches(n_batches=6, batch=4, n_points=32):
    g = torch.Generator().manual_seed(0)
    for _ in range(n_batches):
        full = torch.randn(batch, n_points, 3, generator=g)
        partial = full[:, : n_points // 2] + 0.01 * torch.randn(batch, n_points // 2, 3, generator=g)
        yield full, partial


def main():
    torch.manual_seed(0)
    cfg = {"lr": 2e-3, "weight_decay": 1e-2, "timesteps": 100}
    encoder = PartialShapeEncoder()
    denoiser = PointDenoiser(num_train_timesteps=cfg["timesteps"])
    scheduler = DDPMScheduler(num_train_timesteps=cfg["timesteps"])
    optimizer = build_optimizer(denoiser, encoder, cfg)
    lr_scheduler = get_scheduler("constant", optimizer=optimizer)
    enc0 = encoder.mlp[0].weight.detach().clone()
    den0 = denoiser.inp.weight.detach().clone()
    encoder.train()
    denoiser.train()
    for full, partial in completion_batches():
        noise = torch.randn_like(full)
        t = torch.randint(0, cfg["timesteps"], (full.size(0),))
        noisy = scheduler.add_noise(full, noise, t)
        pred = denoiser(noisy, t, encoder(partial))
        loss = F.mse_loss(pred, noise)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()
    return {"denoiser": denoiser, "encoder": encoder}, {
        "encoder_changed": not torch.equal(enc0, encoder.mlp[0].weight),
        "denoiser_changed": not torch.equal(den0, denoiser.inp.weight),
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
