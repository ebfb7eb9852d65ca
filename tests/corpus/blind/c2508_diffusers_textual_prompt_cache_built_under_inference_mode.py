import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from torch.utils.data import DataLoader, TensorDataset


class FrozenTextEncoder(nn.Module):
    def __init__(self, vocab=40, dim=16):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.mix = nn.GRU(dim, dim, batch_first=True)

    def forward(self, ids):
        out, _ = self.mix(self.emb(ids))
        return out


class StyleAdapter(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, text_dim=16, cond_dim=16):
        super().__init__()
        self.proj = nn.Linear(text_dim, cond_dim)
        self.gate = nn.Parameter(torch.zeros(cond_dim))

    def forward(self, text_states):
        return self.proj(text_states) * torch.tanh(self.gate + 1.0)


class SmallDenoiser(nn.Module):
    def __init__(self, ch=4, cond_dim=16):
        super().__init__()
        self.conv_in = nn.Conv2d(ch, 16, 3, padding=1)
        self.film = nn.Linear(cond_dim, 32)
        self.conv_out = nn.Conv2d(16, ch, 3, padding=1)

    def forward(self, x, cond):
        scale, shift = self.film(cond).chunk(2, dim=-1)
        h = F.silu(self.conv_in(x)) * (1 + scale[:, :, None, None]) + shift[:, :, None, None]
        return self.conv_out(h)


@torch.inference_mode()
def precompute_prompt_states(text_encoder, prompt_ids):
    text_encoder.eval()
    return text_encoder(prompt_ids)[:, -1]


def train_adapter(adapter, denoiser, loader, prompt_states, optimizer, lr_scheduler):
    for latents, prompt_idx in loader:
        noise = torch.randn_like(latents)
        sigma = torch.rand(latents.size(0), 1, 1, 1)
        noisy = latents + sigma * noise
        cond = adapter(prompt_states)[prompt_idx]
        loss = F.mse_loss(denoiser(noisy, cond), noise)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    text_encoder, denoiser, adapter = FrozenTextEncoder(), SmallDenoiser(), StyleAdapter()
    text_encoder.requires_grad_(False)
    denoiser.requires_grad_(False)
    prompts = torch.randint(0, 40, (4, 7))
    prompt_states = precompute_prompt_states(text_encoder, prompts)
    ds = TensorDataset(torch.randn(16, 4, 8, 8), torch.randint(0, 4, (16,)))
    loader = DataLoader(ds, batch_size=4, shuffle=True)
    optimizer = torch.optim.AdamW(adapter.parameters(), lr=1e-3)
    lr_scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=4)
    train_adapter(adapter, denoiser, loader, prompt_states, optimizer, lr_scheduler)
    return {"adapter": adapter}

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
