import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class VideoMAEConfig(PretrainedConfig):
    model_type = "tiny-videomae"

    def __init__(self, frames=4, image_size=16, tubelet=2, patch=4, hidden=32, decoder_hidden=16,
                 mask_ratio=0.75, norm_pix_loss=True, **kwargs):
        super().__init__(**kwargs)
        self.frames, self.image_size, self.tubelet, self.patch = frames, image_size, tubelet, patch
        self.hidden, self.decoder_hidden = hidden, decoder_hidden
        self.mask_ratio, self.norm_pix_loss = mask_ratio, norm_pix_loss


def tube_patchify(video, tubelet, patch):
    b, c, t, h, w = video.shape
    x = video.reshape(b, c, t // tubelet, tubelet, h // patch, patch, w // patch, patch)
    return x.permute(0, 2, 4, 6, 3, 5, 7, 1).reshape(b, -1, tubelet * patch * patch * c)


def random_tube_masking(batch, n_tokens, mask_ratio, generator):
    n_keep = int(n_tokens * (1 - mask_ratio))
    noise = torch.rand(batch, n_tokens, generator=generator)
    ids_shuffle = noise.argsort(1)
    ids_restore = ids_shuffle.argsort(1)
    mask = torch.ones(batch, n_tokens)
    mask[:, :n_keep] = 0
    return ids_shuffle[:, :n_keep], ids_restore, torch.gather(mask, 1, ids_restore)


def gather_visible(tokens, ids_keep):
    index = ids_keep.unsqueeze(-1).expand(-1, -1, tokens.shape[-1])
    return torch.gather(tokens.data, 1, index)


class TinyVideoMAE(PreTrainedModel):
    config_class = VideoMAEConfig
    main_input_name = "pixel_values"

    def __init__(self, config):
        super().__init__(config)
        c = config
        self.n_tokens = (c.frames // c.tubelet) * (c.image_size // c.patch) ** 2
        self.patch_dim = c.tubelet * c.patch * c.patch * 3
        self.patch_embed = nn.Linear(self.patch_dim, c.hidden)
        self.pos_embed = nn.Parameter(torch.randn(1, self.n_tokens, c.hidden) * 0.02)
        layer = nn.TransformerEncoderLayer(c.hidden, 4, 2 * c.hidden, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)
        self.enc_to_dec = nn.Linear(c.hidden, c.decoder_hidden)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, c.decoder_hidden))
        dlayer = nn.TransformerEncoderLayer(c.decoder_hidden, 2, 2 * c.decoder_hidden, dropout=0.0, batch_first=True)
        self.decoder = nn.TransformerEncoder(dlayer, 1)
        self.pred = nn.Linear(c.decoder_hidden, self.patch_dim)
        self._gen = torch.Generator().manual_seed(0)
        self.post_init()

    def forward(self, pixel_values):
        tokens = self.patch_embed(tube_patchify(pixel_values, self.config.tubelet, self.config.patch)) + self.pos_embed
        ids_keep, ids_restore, mask = random_tube_masking(tokens.shape[0], self.n_tokens, self.config.mask_ratio, self._gen)
        latent = self.encoder(gather_visible(tokens, ids_keep))
        dec = self.enc_to_dec(latent)
        fill = self.mask_token.expand(dec.shape[0], self.n_tokens - dec.shape[1], -1)
        dec = torch.cat([dec, fill], 1)
        dec = torch.gather(dec, 1, ids_restore.unsqueeze(-1).expand(-1, -1, dec.shape[-1]))
        return {"pred": self.pred(self.decoder(dec)), "mask": mask}


class VideoMAETrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        video = inputs["pixel_values"]
        outputs = model(pixel_values=video)
        target = tube_patchify(video, model.config.tubelet, model.config.patch)
        if model.config.norm_pix_loss:
            mean = target.mean(-1, keepdim=True)
            var = target.var(-1, keepdim=True)
            target = (target - mean) / (var + 1e-6) ** 0.5
        per_patch = ((outputs["pred"] - target) ** 2).mean(-1)
        loss = (per_patch * outputs["mask"]).sum() / outputs["mask"].sum()
        return (loss, outputs) if return_outputs else loss


class MovingBlobClips(Dataset):
    def __init__(self, n=16, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.clips = []
        for _ in range(n):
            clip = torch.rand(3, 4, 16, 16, generator=g) * 0.1
            x0 = int(torch.randint(0, 8, (1,), generator=g))
            for t in range(4):
                clip[:, t, 4:10, x0 + t: x0 + t + 6] += 0.8
            self.clips.append(clip)

    def __len__(self):
        return len(self.clips)

    def __getitem__(self, k):
        return {"pixel_values": self.clips[k]}


def main():
    torch.manual_seed(0)
    model = TinyVideoMAE(VideoMAEConfig())
    pe0 = model.patch_embed.weight.detach().clone()
    enc0 = model.encoder.layers[0].linear1.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/videomae", per_device_train_batch_size=4, num_train_epochs=2,
                             learning_rate=1e-3, lr_scheduler_type="constant", report_to="none", seed=0)
    VideoMAETrainer(model=model, args=args, train_dataset=MovingBlobClips()).train()
    return {"model": model}, {
        "patch_embed_changed": not torch.equal(pe0, model.patch_embed.weight),
        "encoder_changed": not torch.equal(enc0, model.encoder.layers[0].linear1.weight),
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
