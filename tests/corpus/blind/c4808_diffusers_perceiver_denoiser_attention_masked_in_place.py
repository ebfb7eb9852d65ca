import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler

CFG = {"n_points": 20, "dim": 3, "d": 32, "n_latents": 8, "timesteps": 100, "lr": 1e-3, "epochs": 2}


class LatentCrossAttention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.q, self.k, self.v, self.o = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, latents, tokens, pad_mask):
        scores = self.q(latents) @ self.k(tokens).transpose(1, 2) / tokens.shape[-1] ** 0.5
        attn = torch.softmax(scores, dim=-1)
        attn.masked_fill_(pad_mask[:, None, :], 0.0)
        attn = attn / attn.sum(-1, keepdim=True).clamp(min=1e-6)
        return self.o(attn @ self.v(tokens))


class PerceiverDenoiser(ModelMixin):
    """Perceiver-style epsilon predictor for padded point sets: cross-attend into latents, decode per point."""

    @register_to_config
    def __init__(self, dim=3, d=32, n_latents=8, num_timesteps=100):
        super().__init__()
        self.inp = nn.Linear(dim, d)
        self.t_embed = nn.Embedding(num_timesteps, d)
        self.latents = nn.Parameter(torch.randn(n_latents, d) * 0.02)
        self.encode = LatentCrossAttention(d)
        self.process = nn.TransformerEncoderLayer(d, 4, 2 * d, dropout=0.0, batch_first=True)
        self.decode_attn = nn.MultiheadAttention(d, 4, batch_first=True)
        self.out = nn.Linear(d, dim)

    def forward(self, x, t, pad_mask):
        tokens = self.inp(x) + self.t_embed(t)[:, None]
        z = self.encode(self.latents.expand(x.shape[0], -1, -1), tokens, pad_mask)
        z = self.process(z)
        y, _ = self.decode_attn(tokens, z, z, need_weights=False)
        return self.out(y)


def point_set_loader(cfg, n=16):
    g = torch.Generator().manual_seed(0)
    pts = torch.randn(n, cfg["n_points"], cfg["dim"], generator=g)
    pts = pts / pts.norm(dim=-1, keepdim=True)
    lengths = torch.randint(12, cfg["n_points"] + 1, (n,), generator=g)
    pad = torch.arange(cfg["n_points"])[None] >= lengths[:, None]
    return DataLoader(TensorDataset(pts, pad), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = PerceiverDenoiser(dim=CFG["dim"], d=CFG["d"], n_latents=CFG["n_latents"], num_timesteps=CFG["timesteps"])
    scheduler = DDPMScheduler(num_train_timesteps=CFG["timesteps"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"])
    loader = point_set_loader(CFG)
    lr_scheduler = get_scheduler("linear", optimizer, num_warmup_steps=1, num_training_steps=CFG["epochs"] * len(loader))
    for _ in range(CFG["epochs"]):
        for pts, pad in loader:
            noise = torch.randn_like(pts)
            t = torch.randint(0, CFG["timesteps"], (pts.shape[0],))
            pred = model(scheduler.add_noise(pts, noise, t), t, pad)
            loss = F.mse_loss(pred[~pad], noise[~pad])
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
    return {"model": model}

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
