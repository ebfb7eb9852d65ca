import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler

CONFIG = {
    "context": 24, "target_dim": 4, "rnn_hidden": 16, "residual_channels": 16,
    "freeze_encoder": True, "lr": 1e-3, "steps": 6, "batch": 8, "timesteps": 50,
}


class HistoryEncoder(nn.Module):
    """Pretrained GRU over the conditioning window (loaded from the point-forecast model)."""

    def __init__(self, target_dim, hidden):
        super().__init__()
        self.rnn = nn.GRU(target_dim, hidden, batch_first=True)

    def forward(self, history):
        _, h = self.rnn(history)
        return h[-1]


class DiffusionEmbedding(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim
        self.proj = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t):
        half = self.dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half) / half)
        emb = t.float()[:, None] * freqs[None]
        return self.proj(torch.cat([emb.sin(), emb.cos()], -1))


class EpsilonTheta(ModelMixin):
    """TimeGrad's conditional denoiser: residual 1-D conv blocks over the target dimension."""

    @register_to_config
    def __init__(self, target_dim=4, cond_dim=16, residual_channels=16, n_layers=2):
        super().__init__()
        self.input_proj = nn.Conv1d(1, residual_channels, 1)
        self.diffusion_embedding = DiffusionEmbedding(residual_channels)
        self.cond_upsample = nn.Linear(cond_dim, target_dim)
        self.layers = nn.ModuleList([nn.Conv1d(residual_channels, 2 * residual_channels, 3, padding=1)
                                     for _ in range(n_layers)])
        self.cond_proj = nn.ModuleList([nn.Conv1d(1, 2 * residual_channels, 1) for _ in range(n_layers)])
        self.output_proj = nn.Conv1d(residual_channels, 1, 1)

    def forward(self, x, t, cond):
        h = F.leaky_relu(self.input_proj(x.unsqueeze(1)), 0.4)
        c = self.cond_upsample(cond).unsqueeze(1)
        d = self.diffusion_embedding(t).unsqueeze(-1)
        skip = 0
        for conv, cproj in zip(self.layers, self.cond_proj):
            gate, filt = (conv(h + d) + cproj(c)).chunk(2, dim=1)
            y = torch.sigmoid(gate) * torch.tanh(filt)
            h = (h + y) / math.sqrt(2.0)
            skip = skip + y
        return self.output_proj(F.relu(skip)).squeeze(1)


def build_optimizer(denoiser, encoder, cfg):
    if cfg["freeze_encoder"]:
        encoder.requires_grad_(False)
        encoder.eval()
    params = [p for m in (denoiser, encoder) for p in m.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=cfg["lr"])


def make_windows(cfg, g):
    t = torch.arange(cfg["context"] + 1).float()
    phase = torch.rand(cfg["batch"], 1, cfg["target_dim"], generator=g) * 6.28
    series = torch.sin(t[None, :, None] / 4 + phase) + 0.05 * torch.randn(cfg["batch"], len(t), cfg["target_dim"], generator=g)
    return series[:, :-1], series[:, -1]


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    encoder = HistoryEncoder(CONFIG["target_dim"], CONFIG["rnn_hidden"])
    denoiser = EpsilonTheta(CONFIG["target_dim"], CONFIG["rnn_hidden"], CONFIG["residual_channels"])
    scheduler = DDPMScheduler(num_train_timesteps=CONFIG["timesteps"], beta_end=0.1)
    optimizer = build_optimizer(denoiser, encoder, CONFIG)
    lr_scheduler = get_scheduler("linear", optimizer, num_warmup_steps=1, num_training_steps=CONFIG["steps"])
    enc0 = encoder.rnn.weight_ih_l0.detach().clone()
    out0 = denoiser.output_proj.weight.detach().clone()
    for step in range(CONFIG["steps"]):
        history, target = make_windows(CONFIG, g)
        noise = torch.randn_like(target)
        t = torch.randint(0, CONFIG["timesteps"], (target.shape[0],))
        noisy = scheduler.add_noise(target, noise, t)
        loss = F.mse_loss(denoiser(noisy, t, encoder(history)), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
    return {"denoiser": denoiser}, {
        "denoiser_changed": not torch.equal(out0, denoiser.output_proj.weight),
        "encoder_frozen_unchanged": torch.equal(enc0, encoder.rnn.weight_ih_l0),
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
