import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler

CFG = {"vocab": 50, "d": 32, "seq": 6, "placeholder_id": 50, "init_id": 7, "lr": 5e-3, "epochs": 2,
       "timesteps": 100, "latent_ch": 4, "latent": 8}


class TextEncoder(nn.Module):
    def __init__(self, vocab, d, seq):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, d)
        self.position_embedding = nn.Parameter(torch.zeros(1, seq, d))
        self.layer = nn.TransformerEncoderLayer(d, 4, 2 * d, dropout=0.0, batch_first=True)
        self.final_ln = nn.LayerNorm(d)

    def get_input_embeddings(self):
        return self.token_embedding

    def forward(self, inputs_embeds):
        return self.final_ln(self.layer(inputs_embeds + self.position_embedding))


class CondUNet(ModelMixin):
    @register_to_config
    def __init__(self, latent_ch=4, ch=16, cond_dim=32, num_timesteps=100):
        super().__init__()
        self.t_embed = nn.Embedding(num_timesteps, ch)
        self.conv_in = nn.Conv2d(latent_ch, ch, 3, padding=1)
        self.to_q = nn.Linear(ch, ch)
        self.to_kv = nn.Linear(cond_dim, 2 * ch)
        self.conv_out = nn.Conv2d(ch, latent_ch, 3, padding=1)

    def forward(self, x, t, encoder_hidden_states):
        h = F.silu(self.conv_in(x) + self.t_embed(t)[:, :, None, None])
        B, C, H, W = h.shape
        q = self.to_q(h.flatten(2).transpose(1, 2))
        k, v = self.to_kv(encoder_hidden_states).chunk(2, dim=-1)
        attn = torch.softmax(q @ k.transpose(1, 2) / C ** 0.5, dim=-1) @ v
        return self.conv_out(h + attn.transpose(1, 2).reshape(B, C, H, W))


def build_prompt_embeds(text_encoder, input_ids):
    """Look the prompt tokens up in the (resized) embedding table."""
    table = text_encoder.get_input_embeddings().weight.data
    return table[input_ids]


def add_placeholder_token(text_encoder, cfg):
    old = text_encoder.token_embedding
    new = nn.Embedding(old.num_embeddings + 1, old.embedding_dim)
    with torch.no_grad():
        new.weight[:-1] = old.weight
        new.weight[cfg["placeholder_id"]] = old.weight[cfg["init_id"]]
    text_encoder.token_embedding = new


def concept_loader(cfg, n=16):
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(n, cfg["latent_ch"], cfg["latent"], cfg["latent"], generator=g) * 0.5 + 0.3
    prompts = torch.randint(0, cfg["vocab"], (n, cfg["seq"]), generator=g)
    prompts[:, 2] = cfg["placeholder_id"]   # "a photo of <cat-toy>"
    return DataLoader(TensorDataset(latents, prompts), batch_size=4, shuffle=True, generator=g)


def train_textual_inversion(text_encoder, unet, loader, cfg):
    noise_scheduler = DDPMScheduler(num_train_timesteps=cfg["timesteps"])
    embeddings = text_encoder.get_input_embeddings()
    optimizer = torch.optim.AdamW(embeddings.parameters(), lr=cfg["lr"], weight_decay=0.0)
    lr_scheduler = get_scheduler("constant", optimizer)
    orig = embeddings.weight.detach().clone()
    keep = torch.ones(embeddings.num_embeddings, dtype=torch.bool)
    keep[cfg["placeholder_id"]] = False
    for _ in range(cfg["epochs"]):
        for latents, input_ids in loader:
            noise = torch.randn_like(latents)
            t = torch.randint(0, cfg["timesteps"], (latents.shape[0],))
            noisy = noise_scheduler.add_noise(latents, noise, t)
            cond = text_encoder(build_prompt_embeds(text_encoder, input_ids))
            loss = F.mse_loss(unet(noisy, t, cond), noise)
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
            with torch.no_grad():
                embeddings.weight[keep] = orig[keep]


def main():
    torch.manual_seed(0)
    text_encoder = TextEncoder(CFG["vocab"], CFG["d"], CFG["seq"])
    unet = CondUNet(latent_ch=CFG["latent_ch"], cond_dim=CFG["d"], num_timesteps=CFG["timesteps"])
    add_placeholder_token(text_encoder, CFG)
    unet.requires_grad_(False)
    text_encoder.requires_grad_(False)
    text_encoder.get_input_embeddings().requires_grad_(True)
    emb0 = text_encoder.get_input_embeddings().weight.detach().clone()
    train_textual_inversion(text_encoder, unet, concept_loader(CFG), CFG)
    w = text_encoder.get_input_embeddings().weight
    return {"token_embedding": text_encoder.get_input_embeddings()}, {
        "placeholder_changed": not torch.equal(emb0[CFG["placeholder_id"]], w[CFG["placeholder_id"]]),
        "other_rows_changed": not torch.equal(emb0[:CFG["placeholder_id"]], w[:CFG["placeholder_id"]]),
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
