import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TextEncoder(nn.Module):
    def __init__(self, vocab=40, d=16):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, d)
        self.encoder = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))
        self.final_norm = nn.LayerNorm(d)

    def forward(self, ids):
        h = self.token_embedding(ids)
        return self.final_norm(h + self.encoder(h))


class ConditionalDenoiser(nn.Module):
    """Frozen stand-in for the UNet: predicts the noise from a noisy image and the text condition."""

    def __init__(self, d=16):
        super().__init__()
        self.conv_in = nn.Conv2d(3, d, 3, padding=1)
        self.cond = nn.Linear(d, d)
        self.conv_out = nn.Conv2d(d, 3, 3, padding=1)

    def forward(self, noisy, cond):
        h = F.silu(self.conv_in(noisy) + self.cond(cond.mean(1))[:, :, None, None])
        return self.conv_out(h)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=1)
    text_encoder, denoiser = TextEncoder(), ConditionalDenoiser()
    placeholder_id, init_id = 39, 5
    with torch.no_grad():
        text_encoder.token_embedding.weight[placeholder_id] = text_encoder.token_embedding.weight[init_id].clone()

    denoiser.requires_grad_(False)
    text_encoder.encoder.requires_grad_(False)
    text_encoder.final_norm.requires_grad_(False)
    optimizer = torch.optim.AdamW(text_encoder.token_embedding.parameters(), lr=5e-2, weight_decay=0.0)

    images = torch.rand(16, 3, 8, 8)
    prompts = torch.tensor([[1, 2, placeholder_id, 3]]).repeat(16, 1)
    loader = DataLoader(TensorDataset(images, prompts), batch_size=4, shuffle=True)
    text_encoder, optimizer, loader = accelerator.prepare(text_encoder, optimizer, loader)
    orig_embeds = accelerator.unwrap_model(text_encoder).token_embedding.weight.data.clone()

    text_encoder.train()
    for images_b, ids in loader:
        with accelerator.accumulate(text_encoder):
            noise = torch.randn_like(images_b)
            noisy = images_b + 0.5 * noise
            loss = F.mse_loss(denoiser(noisy, text_encoder(ids)), noise)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            index_no_updates = torch.ones(orig_embeds.shape[0], dtype=torch.bool)
            index_no_updates[placeholder_id] = False
            with torch.no_grad():
                accelerator.unwrap_model(text_encoder).token_embedding.weight[index_no_updates] = \
                    orig_embeds[index_no_updates]

    final = accelerator.unwrap_model(text_encoder).token_embedding.weight.detach()
    facts = {"placeholder_changed": not torch.equal(final[placeholder_id], orig_embeds[placeholder_id]),
             "other_rows_restored": torch.equal(final[:placeholder_id], orig_embeds[:placeholder_id])}
    return {"text_encoder": text_encoder}, facts

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
