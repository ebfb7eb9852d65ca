import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from torch.utils.data import DataLoader, TensorDataset


class FrozenTextEncoder(nn.Module):
    def __init__(self, vocab=40, dim=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.mix = nn.Linear(dim, dim)

    def forward(self, ids):
        return self.mix(self.embed(ids)).mean(dim=1)


class CondDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, width=16, cond_dim=16):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.cond_proj = nn.Linear(cond_dim, width)
        self.conv_out = nn.Sequential(nn.SiLU(), nn.Conv2d(width, channels, 3, padding=1))

    def forward(self, x, t, cond):
        h = self.conv_in(x) + self.cond_proj(cond)[:, :, None, None] + (t.float() / 100)[:, None, None, None]
        return self.conv_out(h)


class StyleAdapter(nn.Module):
    """Small trainable adapter that maps frozen text embeddings into a new style space."""

    def __init__(self, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))

    def forward(self, emb):
        return emb + self.net(emb)


@torch.inference_mode()
def precompute_prompt_embeddings(text_encoder, prompt_ids):
    text_encoder.eval()
    return text_encoder(prompt_ids)


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    text_encoder, unet, adapter = FrozenTextEncoder(), CondDenoiser(), StyleAdapter()
    text_encoder.requires_grad_(False)
    unet.requires_grad_(False)
    instance_prompt_ids = torch.randint(0, 40, (1, 5))  # "a photo of sks style"
    prompt_embed = precompute_prompt_embeddings(text_encoder, instance_prompt_ids)  # encode once, reuse every step
    latents = torch.randn(16, 4, 8, 8)
    loader = DataLoader(TensorDataset(latents), batch_size=4, shuffle=True)
    optimizer = torch.optim.AdamW(adapter.parameters(), lr=1e-3)
    adapter, optimizer, loader = accelerator.prepare(adapter, optimizer, loader)
    scheduler = DDPMScheduler(num_train_timesteps=100)
    a0 = adapter.net[0].weight.detach().clone()
    for (x0,) in loader:
        noise = torch.randn_like(x0)
        t = torch.randint(0, 100, (x0.size(0),))
        cond = adapter(prompt_embed).expand(x0.size(0), -1)
        pred = unet(scheduler.add_noise(x0, noise, t), t, cond)
        loss = F.mse_loss(pred, noise)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    return {"adapter": adapter}, {"adapter_changed": not torch.equal(a0, adapter.net[0].weight)}

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
