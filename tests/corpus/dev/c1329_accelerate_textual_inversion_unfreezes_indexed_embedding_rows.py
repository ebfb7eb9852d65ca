import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin


class TextEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))

    def get_input_embeddings(self):
        return self.token_embedding

    def forward(self, input_ids):
        return self.mlp(self.token_embedding(input_ids)).mean(1)


class TinyUNet(ModelMixin):
    def __init__(self, ch=4, cond_dim=16):
        super().__init__()
        self.inp = nn.Conv2d(ch, 16, 3, padding=1)
        self.cond = nn.Linear(cond_dim + 1, 16)
        self.out = nn.Conv2d(16, ch, 3, padding=1)

    def forward(self, x, t, cond):
        h = self.inp(x) + self.cond(torch.cat([cond, t[:, None].float() / 1000], dim=-1))[:, :, None, None]
        return self.out(F.silu(h))


def prepare_textual_inversion(text_encoder, unet, placeholder_ids, init_id):
    unet.requires_grad_(False)
    text_encoder.requires_grad_(False)
    with torch.no_grad():
        text_encoder.get_input_embeddings().weight[placeholder_ids] = text_encoder.get_input_embeddings().weight[init_id].clone()
    text_encoder.get_input_embeddings().weight[placeholder_ids].requires_grad_(True)
    return text_encoder.get_input_embeddings().parameters()


def main():
    set_seed(0)
    accelerator = Accelerator()
    text_encoder, unet = TextEncoder(), TinyUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    placeholder_ids = torch.tensor([48, 49])
    params = prepare_textual_inversion(text_encoder, unet, placeholder_ids, init_id=7)
    optimizer = torch.optim.AdamW(params, lr=5e-3, weight_decay=0.0)
    text_encoder, unet, optimizer = accelerator.prepare(text_encoder, unet, optimizer)
    latents = torch.randn(8, 4, 8, 8)
    input_ids = torch.cat([torch.randint(0, 40, (8, 3)), placeholder_ids.expand(8, 2)], dim=1)
    for step in range(3):
        noise = torch.randn_like(latents)
        t = torch.randint(0, 1000, (8,))
        noisy = noise_scheduler.add_noise(latents, noise, t)
        pred = unet(noisy, t, text_encoder(input_ids))
        loss = F.mse_loss(pred, noise)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    return {"text_encoder": text_encoder}

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
