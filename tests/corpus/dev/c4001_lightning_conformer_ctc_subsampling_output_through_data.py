import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ConvSubsampling(nn.Module):
    def __init__(self, n_mels, d_model):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, d_model, 3, stride=2, padding=1), nn.SiLU())

    def forward(self, feats):
        return self.conv(feats.transpose(1, 2)).transpose(1, 2)


class ConformerBlock(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ff = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.SiLU(), nn.Linear(2 * d, d))
        self.attn = nn.MultiheadAttention(d, 2, batch_first=True)
        self.dw = nn.Conv1d(d, d, 3, padding=1, groups=d)
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        x = x + 0.5 * self.ff(x)
        a, _ = self.attn(x, x, x, need_weights=False)
        x = x + a
        x = x + self.dw(x.transpose(1, 2)).transpose(1, 2)
        return self.norm(x)


def build_encoder(cfg):
    frontend = ConvSubsampling(cfg["n_mels"], cfg["d_model"])
    blocks = nn.Sequential(*[ConformerBlock(cfg["d_model"]) for _ in range(cfg["n_layers"])])
    return frontend, blocks


class ConformerCTC(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.frontend, self.encoder = build_encoder(cfg)
        self.ctc_head = nn.Linear(cfg["d_model"], cfg["vocab"])
        self.lr = cfg["lr"]

    def subsample(self, feats):
        x = self.frontend(feats)
        self.last_frames = x.size(1)
        return x.data

    def forward(self, feats):
        x = self.subsample(feats)
        return self.ctc_head(self.encoder(x)).log_softmax(-1)

    def training_step(self, batch, batch_idx):
        feats, targets, target_lens = batch
        log_probs = self(feats).transpose(0, 1)
        in_lens = torch.full((feats.size(0),), self.last_frames, dtype=torch.long)
        loss = F.ctc_loss(log_probs, targets, in_lens, target_lens, blank=0, zero_infinity=True)
        self.log("train/ctc", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr)


def speech_loader(n=24, t=16, n_mels=8, vocab=6):
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(n, t, n_mels, generator=g)
    targets = torch.randint(1, vocab, (n, 3), generator=g)
    lens = torch.full((n,), 3, dtype=torch.long)
    return DataLoader(TensorDataset(feats, targets, lens), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    cfg = {"n_mels": 8, "d_model": 16, "n_layers": 2, "vocab": 6, "lr": 3e-3}
    model = ConformerCTC(cfg)
    fe0 = model.frontend.conv[0].weight.detach().clone()
    enc0 = model.encoder[0].ff[1].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, speech_loader())
    return {"model": model}, {
        "frontend_changed": not torch.equal(fe0, model.frontend.conv[0].weight),
        "encoder_changed": not torch.equal(enc0, model.encoder[0].ff[1].weight),
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
