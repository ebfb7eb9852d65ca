import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TinyTextEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.block = nn.TransformerEncoderLayer(dim, 2, 32, batch_first=True, dropout=0.0)
        self.final_norm = nn.LayerNorm(dim)

    def forward(self, ids):
        return self.final_norm(self.block(self.tok(ids)))


class TinyVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.SiLU(), nn.Conv2d(8, 4, 3, 1, 1))

    def encode(self, x):
        return self.enc(x) * 0.18215


class CondUNet(nn.Module):
    def __init__(self, ch=4, dim=16):
        super().__init__()
        self.inp = nn.Conv2d(ch, 16, 3, 1, 1)
        self.t_proj = nn.Linear(1, 16)
        self.ctx_proj = nn.Linear(dim, 16)
        self.out = nn.Conv2d(16, ch, 3, 1, 1)

    def forward(self, x, t, ctx):
        h = self.inp(x) + self.t_proj(t[:, None].float())[:, :, None, None]
        h = h + self.ctx_proj(ctx.mean(1))[:, :, None, None]
        return self.out(F.silu(h))


def encode_batch(vae, pixels):
    with torch.no_grad():
        latents = vae.encode(pixels)
    return latents


def train_dreambooth(accelerator, unet, text_encoder, vae, optimizer, loader, steps_total=1000):
    alphas = torch.linspace(0.999, 0.01, steps_total)
    for pixels, ids in loader:
        with accelerator.accumulate(unet, text_encoder):
            latents = encode_batch(vae, pixels)
            noise = torch.randn_like(latents)
            t = torch.randint(0, steps_total, (latents.size(0),))
            a = alphas[t][:, None, None, None]
            noisy = a.sqrt() * latents + (1 - a).sqrt() * noise
            pred = unet(noisy, t, text_encoder(ids))
            loss = F.mse_loss(pred, noise)
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(list(unet.parameters()) + list(text_encoder.parameters()), 1.0)
            optimizer.step()
            optimizer.zero_grad()
        accelerator.log({"loss": loss.detach().item()})


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    unet, text_encoder, vae = CondUNet(), TinyTextEncoder(), TinyVAE()
    vae.requires_grad_(False)
    before = text_encoder.tok.weight.detach().clone()
    params = list(unet.parameters()) + list(text_encoder.parameters())
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.rand(12, 3, 16, 16, generator=g), torch.randint(0, 50, (12, 6), generator=g))
    loader = DataLoader(ds, batch_size=2, shuffle=True)
    unet, text_encoder, optimizer, loader = accelerator.prepare(unet, text_encoder, optimizer, loader)
    train_dreambooth(accelerator, unet, text_encoder, vae, optimizer, loader)
    unet.zero_grad(set_to_none=False)
    pixels, ids = next(iter(loader))
    latents = encode_batch(vae, pixels)
    F.mse_loss(unet(latents, torch.full((2,), 500), text_encoder(ids)), latents).backward()
    changed = not torch.equal(before, text_encoder.tok.weight)
    return {"unet": unet, "text_encoder.block": text_encoder.block}, {"text_encoder_changed": changed}

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
