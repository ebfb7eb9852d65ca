import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler
from torch.utils.data import DataLoader, TensorDataset


class TinyTextEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.position_embedding = nn.Embedding(8, dim)
        self.final_layer_norm = nn.LayerNorm(dim)

    def get_input_embeddings(self):
        return self.token_embedding

    def forward(self, input_ids):
        pos = torch.arange(input_ids.size(1))
        return self.final_layer_norm(self.token_embedding(input_ids) + self.position_embedding(pos))


class TinyUNet(nn.Module):
    def __init__(self, ch=4, cond=16):
        super().__init__()
        self.conv_in = nn.Conv2d(ch, 16, 3, padding=1)
        self.cond_proj = nn.Linear(cond, 16)
        self.time_proj = nn.Linear(1, 16)
        self.conv_out = nn.Conv2d(16, ch, 3, padding=1)

    def forward(self, x, t, encoder_hidden_states):
        h = self.conv_in(x)
        h = h + self.cond_proj(encoder_hidden_states.mean(1))[:, :, None, None]
        h = h + self.time_proj(t.float().unsqueeze(-1) / 1000)[:, :, None, None]
        return self.conv_out(F.silu(h))


def freeze(module):
    module.requires_grad_(False)


def main():
    set_seed(0)
    accelerator = Accelerator()
    text_encoder, unet = TinyTextEncoder(), TinyUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    placeholder_token_id = 49
    with torch.no_grad():
        text_encoder.get_input_embeddings().weight[placeholder_token_id] = text_encoder.get_input_embeddings().weight[7]
    freeze(unet)
    freeze(text_encoder.position_embedding)
    freeze(text_encoder.final_layer_norm)
    optimizer = torch.optim.AdamW(text_encoder.get_input_embeddings().parameters(), lr=5e-2, weight_decay=1e-2)
    latents = torch.randn(8, 4, 8, 8)
    ids = torch.tensor([[3, 5, placeholder_token_id, 2]]).repeat(8, 1)
    loader = DataLoader(TensorDataset(latents, ids), batch_size=4)
    text_encoder, optimizer, loader = accelerator.prepare(text_encoder, optimizer, loader)
    orig_embeds_params = text_encoder.get_input_embeddings().weight.data.clone()
    index_no_updates = torch.ones(50, dtype=torch.bool)
    index_no_updates[placeholder_token_id] = False
    text_encoder.train()
    for lat, input_ids in loader:
        noise = torch.randn_like(lat)
        timesteps = torch.randint(0, 1000, (lat.size(0),))
        noisy = noise_scheduler.add_noise(lat, noise, timesteps)
        pred = unet(noisy, timesteps, text_encoder(input_ids))
        loss = F.mse_loss(pred, noise)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
        with torch.no_grad():
            emb = accelerator.unwrap_model(text_encoder).get_input_embeddings()
            emb.weight[index_no_updates] = orig_embeds_params[index_no_updates]
    learned = text_encoder.get_input_embeddings().weight
    return ({"text_encoder": text_encoder},
            {"placeholder_changed": not torch.equal(learned[placeholder_token_id], orig_embeds_params[placeholder_token_id]),
             "other_rows_changed": not torch.equal(learned[index_no_updates], orig_embeds_params[index_no_updates])})

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
