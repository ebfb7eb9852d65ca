import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"vocab": 48, "d": 24, "seq": 6, "num_vectors": 2, "init_token": 5, "lr": 5e-3, "weight_decay": 1e-2,
       "latent_ch": 4, "latent": 8, "timesteps": 50}


class FrozenDenoiser(nn.Module):
    def __init__(self, latent_ch, cond_dim, timesteps):
        super().__init__()
        self.t = nn.Embedding(timesteps, 16)
        self.conv_in = nn.Conv2d(latent_ch, 16, 3, padding=1)
        self.cond = nn.Linear(cond_dim, 16)
        self.conv_out = nn.Conv2d(16, latent_ch, 3, padding=1)

    def forward(self, x, t, text):
        h = self.conv_in(x) + self.t(t)[:, :, None, None] + self.cond(text.mean(1))[:, :, None, None]
        return self.conv_out(F.silu(h))


class TextualInversion(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.token_embedding = nn.Embedding(cfg["vocab"] + cfg["num_vectors"], cfg["d"])
        self.placeholder_ids = list(range(cfg["vocab"], cfg["vocab"] + cfg["num_vectors"]))
        with torch.no_grad():
            self.token_embedding.weight[self.placeholder_ids] = self.token_embedding.weight[cfg["init_token"]].clone()
        self.text_proj = nn.Linear(cfg["d"], cfg["d"]).requires_grad_(False)
        self.denoiser = FrozenDenoiser(cfg["latent_ch"], cfg["d"], cfg["timesteps"]).requires_grad_(False)
        self.register_buffer("orig_embeds", self.token_embedding.weight.detach().clone())
        keep = torch.ones(self.token_embedding.num_embeddings, dtype=torch.bool)
        keep[self.placeholder_ids] = False
        self.register_buffer("index_no_updates", keep)
        betas = torch.linspace(1e-4, 0.02, cfg["timesteps"])
        self.register_buffer("alphas_cumprod", torch.cumprod(1 - betas, 0))

    def training_step(self, batch, batch_idx):
        latents, ids = batch
        noise = torch.randn_like(latents)
        t = torch.randint(0, self.cfg["timesteps"], (latents.shape[0],))
        a = self.alphas_cumprod[t].view(-1, 1, 1, 1)
        noisy = a.sqrt() * latents + (1 - a).sqrt() * noise
        text = self.text_proj(self.token_embedding(ids))
        return F.mse_loss(self.denoiser(noisy, t, text), noise)

    def on_train_batch_end(self, outputs, batch, batch_idx):
        with torch.no_grad():
            self.token_embedding.weight[self.index_no_updates] = self.orig_embeds[self.index_no_updates]

    def configure_optimizers(self):
        return torch.optim.AdamW(self.token_embedding.parameters(), lr=self.cfg["lr"], weight_decay=self.cfg["weight_decay"])


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(12, CFG["latent_ch"], CFG["latent"], CFG["latent"], generator=g) * 0.5 + 0.2
    ids = torch.tensor([[1, 2, 3, CFG["vocab"], CFG["vocab"] + 1, 0]]).repeat(12, 1)   # "a photo of <toy-0> <toy-1>"
    module = TextualInversion(CFG)
    w0 = module.token_embedding.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, DataLoader(TensorDataset(latents, ids), batch_size=4, shuffle=True, generator=g))
    w = module.token_embedding.weight
    return {"token_embedding": module.token_embedding}, {
        "placeholder_changed": not torch.equal(w0[CFG["vocab"]:], w[CFG["vocab"]:]),
        "other_rows_changed": not torch.equal(w0[:CFG["vocab"]], w[:CFG["vocab"]]),
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
