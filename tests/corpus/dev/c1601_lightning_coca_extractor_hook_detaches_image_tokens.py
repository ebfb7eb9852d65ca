import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PatchEncoder(nn.Module):
    def __init__(self, patch_dim=12, dim=32, depth=2):
        super().__init__()
        self.to_tokens = nn.Linear(patch_dim, dim)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU()) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, patches):
        x = self.to_tokens(patches)
        for blk in self.blocks:
            x = x + blk(x)
        return self.norm(x)


class Extractor(nn.Module):
    """Wraps a vision encoder and returns the token embeddings its last layer produced (forward hook)."""

    def __init__(self, encoder, layer_name="norm"):
        super().__init__()
        self.encoder = encoder
        self.latents = None
        layer = dict(encoder.named_modules())[layer_name]
        layer.register_forward_hook(self._hook)

    def _hook(self, module, inputs, output):
        self.latents = output.clone().detach()

    def forward(self, patches):
        self.encoder(patches)
        latents, self.latents = self.latents, None
        return latents


class CaptionDecoder(nn.Module):
    def __init__(self, vocab=40, dim=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.img_proj = nn.Linear(dim, dim)
        self.mix = nn.Sequential(nn.Linear(dim, dim), nn.GELU())
        self.to_logits = nn.Linear(dim, vocab)

    def forward(self, tokens, img_tokens):
        ctx = self.img_proj(img_tokens.mean(dim=1, keepdim=True))
        h = self.mix(self.embed(tokens) + ctx)
        return self.to_logits(h), h[:, -1]


class CoCaLite(pl.LightningModule):
    def __init__(self, lr=3e-3, temperature=0.1):
        super().__init__()
        self.save_hyperparameters()
        self.vision = Extractor(PatchEncoder())
        self.decoder = CaptionDecoder()
        self.img_to_latent = nn.Linear(32, 16, bias=False)
        self.text_to_latent = nn.Linear(32, 16, bias=False)
        self.temperature, self.lr = temperature, lr

    def contrastive_loss(self, img_tokens, text_cls):
        img_lat = F.normalize(self.img_to_latent(img_tokens.mean(dim=1)), dim=-1)
        txt_lat = F.normalize(self.text_to_latent(text_cls), dim=-1)
        sim = img_lat @ txt_lat.t() / self.temperature
        target = torch.arange(sim.size(0), device=sim.device)
        return (F.cross_entropy(sim, target) + F.cross_entropy(sim.t(), target)) / 2

    def training_step(self, batch, batch_idx):
        patches, captions = batch
        img_tokens = self.vision(patches)
        logits, text_cls = self.decoder(captions[:, :-1], img_tokens)
        caption_loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), captions[:, 1:].reshape(-1))
        loss = caption_loss + self.contrastive_loss(img_tokens, text_cls)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=0.01)


def main():
    pl.seed_everything(7)
    g = torch.Generator().manual_seed(7)
    patches = torch.randn(64, 9, 12, generator=g)
    captions = torch.randint(0, 40, (64, 8), generator=g)
    loader = DataLoader(TensorDataset(patches, captions), batch_size=16, shuffle=True, generator=g)
    model = CoCaLite()
    w0 = model.vision.encoder.to_tokens.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, loader)
    return {"model": model}, {"vision_encoder_changed": not torch.equal(w0, model.vision.encoder.to_tokens.weight)}

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
