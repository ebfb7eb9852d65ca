import torch
import torch.nn as nn
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class MAEConfig(PretrainedConfig):
    model_type = "tiny-mae"

    def __init__(self, image_size=8, patch_size=2, hidden_size=16, decoder_size=16, mask_ratio=0.75, **kwargs):
        super().__init__(**kwargs)
        self.image_size, self.patch_size = image_size, patch_size
        self.hidden_size, self.decoder_size, self.mask_ratio = hidden_size, decoder_size, mask_ratio


def patchify(images, p):
    b, c, h, w = images.shape
    x = images.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(b, (h // p) * (w // p), p * p * c)


class TinyMAE(PreTrainedModel):
    config_class = MAEConfig

    def __init__(self, config):
        super().__init__(config)
        n = (config.image_size // config.patch_size) ** 2
        patch_dim = 3 * config.patch_size ** 2
        self.patch_embed = nn.Linear(patch_dim, config.hidden_size)
        self.pos_embed = nn.Parameter(torch.randn(1, n, config.hidden_size) * 0.02)
        self.encoder = nn.TransformerEncoderLayer(config.hidden_size, 4, 32, dropout=0.0, batch_first=True)
        self.enc_to_dec = nn.Linear(config.hidden_size, config.decoder_size)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, config.decoder_size))
        self.decoder = nn.TransformerEncoderLayer(config.decoder_size, 4, 32, dropout=0.0, batch_first=True)
        self.pred = nn.Linear(config.decoder_size, patch_dim)
        self.post_init()

    def random_masking(self, b, n):
        keep = int(n * (1 - self.config.mask_ratio))
        with torch.no_grad():
            noise = torch.rand(b, n)
            ids_shuffle = noise.argsort(dim=1)
            ids_restore = ids_shuffle.argsort(dim=1)
            mask = torch.ones(b, n)
            mask[:, :keep] = 0
            mask = torch.gather(mask, 1, ids_restore)
        return ids_shuffle[:, :keep], ids_restore, mask

    def forward(self, pixel_values):
        patches = patchify(pixel_values, self.config.patch_size)
        b, n, _ = patches.shape
        tokens = self.patch_embed(patches)
        tokens += self.pos_embed
        ids_keep, ids_restore, mask = self.random_masking(b, n)
        visible = torch.gather(tokens, 1, ids_keep[..., None].expand(-1, -1, tokens.size(-1)))
        latent = self.enc_to_dec(self.encoder(visible))
        fill = self.mask_token.expand(b, n - latent.size(1), -1)
        full = torch.cat([latent, fill], dim=1)
        full = torch.gather(full, 1, ids_restore[..., None].expand(-1, -1, full.size(-1)))
        pred = self.pred(self.decoder(full))
        with torch.no_grad():
            target = patches.clone()
            mean, var = target.mean(-1, keepdim=True), target.var(-1, keepdim=True)
            target.sub_(mean).div_((var + 1e-6).sqrt())
        per_patch = ((pred - target) ** 2).mean(-1)
        loss = (per_patch * mask).sum() / mask.sum()
        return ModelOutput(loss=loss, logits=pred)


def main():
    torch.manual_seed(0)
    model = TinyMAE(MAEConfig())
    data = [{"pixel_values": torch.rand(3, 8, 8)} for _ in range(16)]
    pe0 = model.patch_embed.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/tiny-mae", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-3, weight_decay=0.05, warmup_ratio=0.25, report_to="none")
    Trainer(model=model, args=args, train_dataset=data).train()
    batch = torch.stack([d["pixel_values"] for d in data[:4]])
    model.zero_grad(set_to_none=True)
    model(pixel_values=batch).loss.backward()
    return {"model": model}, {"patch_embed_changed": not torch.equal(pe0, model.patch_embed.weight)}

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
