import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class PromptEncoder(nn.Module):
    def __init__(self, vocab=50, d=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.proj = nn.Linear(d, d)

    def forward(self, ids):
        return self.proj(self.embed(ids).mean(1))


class LatentDenoiser(nn.Module):
    def __init__(self, latent_dim=8, cond_dim=16, hidden=64):
        super().__init__()
        self.inp = nn.Linear(latent_dim + 1, hidden)
        self.cond = nn.Linear(cond_dim, hidden)
        self.mid = nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.out = nn.Linear(hidden, latent_dim)

    def forward(self, z, t, cond):
        h = self.inp(torch.cat([z, t[:, None].float() / 100], dim=-1)) + self.cond(cond)
        return self.out(self.mid(h))


def make_loader(n=64, latent_dim=8, vocab=50):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (n, 6), generator=g)
    latents = torch.randn(n, latent_dim, generator=g) + ids[:, :1].float() / vocab
    return DataLoader(TensorDataset(latents, ids), batch_size=16, shuffle=True, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    text_encoder = PromptEncoder()
    text_encoder.requires_grad_(False)
    text_encoder.eval()
    denoiser = LatentDenoiser()
    optimizer = torch.optim.AdamW(denoiser.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(denoiser, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    betas = torch.linspace(1e-4, 0.02, 100)
    alphas_cumprod = torch.cumprod(1 - betas, dim=0)
    for _ in range(2):
        for latents, ids in loader:
            with torch.no_grad():
                cond = text_encoder(ids)
            t = torch.randint(0, 100, (latents.shape[0],))
            noise = torch.randn_like(latents)
            alpha_bar = alphas_cumprod[t][:, None]
            noisy = alpha_bar.sqrt() * latents + (1 - alpha_bar).sqrt() * noise
            loss = F.mse_loss(model(noisy, t, cond), noise)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"denoiser": denoiser, "text_encoder": text_encoder}

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
