import torch
import torch.nn as nn
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def patchify(video, t_patch=2, s_patch=4):
    b, c, t, h, w = video.shape
    x = video.reshape(b, c, t // t_patch, t_patch, h // s_patch, s_patch, w // s_patch, s_patch)
    return x.permute(0, 2, 4, 6, 3, 5, 7, 1).reshape(b, -1, t_patch * s_patch * s_patch * c)


@torch.no_grad()
def normalized_targets(video):
    target = patchify(video)
    mean = target.mean(-1, keepdim=True)
    var = target.var(-1, keepdim=True)
    target.sub_(mean).div_((var + 1e-6).sqrt())
    return target


class VideoMAE(pl.LightningModule):
    def __init__(self, n_tokens=32, patch_dim=96, dim=32, dec_dim=16, mask_ratio=0.75, lr=1e-3):
        super().__init__()
        self.embed = nn.Linear(patch_dim, dim)
        self.pos = nn.Parameter(torch.randn(1, n_tokens, dim) * 0.02)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(dim, 4, 2 * dim, 0.0, batch_first=True), 2)
        self.to_dec = nn.Linear(dim, dec_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dec_dim))
        self.dec_pos = nn.Parameter(torch.randn(1, n_tokens, dec_dim) * 0.02)
        self.decoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(dec_dim, 2, 2 * dec_dim, 0.0, batch_first=True), 1)
        self.head = nn.Linear(dec_dim, patch_dim)
        self.n_keep = int(n_tokens * (1 - mask_ratio))
        self.lr = lr

    def forward(self, video):
        tokens = self.embed(patchify(video)) + self.pos
        b, n, _ = tokens.shape
        with torch.no_grad():
            ids_shuffle = torch.rand(b, n).argsort(1)
            ids_restore = ids_shuffle.argsort(1)
            mask = torch.ones(b, n)
            mask[:, :self.n_keep] = 0
            mask = torch.gather(mask, 1, ids_restore)
        keep = ids_shuffle[:, :self.n_keep, None].expand(-1, -1, tokens.shape[-1])
        latent = self.encoder(torch.gather(tokens, 1, keep))
        dec = torch.cat([self.to_dec(latent), self.mask_token.expand(b, n - self.n_keep, -1)], 1)
        dec = torch.gather(dec, 1, ids_restore[..., None].expand(-1, -1, dec.shape[-1])) + self.dec_pos
        return self.head(self.decoder(dec)), mask

    def training_step(self, batch, batch_idx):
        (video,) = batch
        pred, mask = self(video)
        target = normalized_targets(video)
        loss = (((pred - target) ** 2).mean(-1) * mask).sum() / mask.sum()
        self.log("train/mae_loss", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr, betas=(0.9, 0.95), weight_decay=0.05)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 4))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    video = torch.rand(16, 3, 4, 16, 16, generator=g) * 0.2
    video[:, :, :, 4:12, 4:12] += torch.linspace(0, 0.6, 4).view(1, 1, 4, 1, 1)
    model = VideoMAE()
    emb0 = model.embed.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(video), batch_size=4))
    return {"model": model}, {"patch_embed_changed": not torch.equal(emb0, model.embed.weight)}

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
