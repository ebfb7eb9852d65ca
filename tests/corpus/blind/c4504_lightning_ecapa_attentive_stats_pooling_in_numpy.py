import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

HP = {"n_mels": 20, "channels": 32, "emb_dim": 16, "n_speakers": 6, "margin": 0.2, "scale": 30.0, "lr": 2e-3}


class TDNNBlock(nn.Module):
    def __init__(self, c_in, c_out, k, d):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, k, dilation=d, padding=d * (k - 1) // 2)
        self.bn = nn.BatchNorm1d(c_out)

    def forward(self, x):
        return self.bn(F.relu(self.conv(x)))


def weighted_mean_std(h, w):
    """Attention-weighted mean and standard deviation over time (shared with the scoring backend)."""
    h_np, w_np = h.detach().cpu().numpy(), w.detach().cpu().numpy()
    mu = (h_np * w_np).sum(axis=-1)
    var = (h_np ** 2 * w_np).sum(axis=-1) - mu ** 2
    sg = np.sqrt(np.clip(var, 1e-5, None))
    return torch.from_numpy(np.concatenate([mu, sg], axis=1)).to(h.device, h.dtype)


class AttentiveStatsPool(nn.Module):
    def __init__(self, c, att_dim=16):
        super().__init__()
        self.attention = nn.Sequential(nn.Conv1d(3 * c, att_dim, 1), nn.Tanh(), nn.Conv1d(att_dim, c, 1))

    def forward(self, h):
        T = h.shape[-1]
        mean = h.mean(-1, keepdim=True).expand(-1, -1, T)
        std = h.std(-1, keepdim=True).expand(-1, -1, T)
        w = torch.softmax(self.attention(torch.cat([h, mean, std], dim=1)), dim=-1)
        return weighted_mean_std(h, w)


class EcapaEncoder(nn.Module):
    def __init__(self, hp):
        super().__init__()
        c = hp["channels"]
        self.layer1 = TDNNBlock(hp["n_mels"], c, 5, 1)
        self.layer2 = TDNNBlock(c, c, 3, 2)
        self.layer3 = TDNNBlock(c, c, 3, 3)
        self.mfa = nn.Conv1d(2 * c, c, 1)
        self.pool = AttentiveStatsPool(c)
        self.bn = nn.BatchNorm1d(2 * c)
        self.fc = nn.Linear(2 * c, hp["emb_dim"])

    def forward(self, x):
        x1 = self.layer1(x)
        x2 = self.layer2(x1)
        x3 = self.layer3(x1 + x2)
        h = F.relu(self.mfa(torch.cat([x2, x3], dim=1)))
        return self.fc(self.bn(self.pool(h)))


class AAMSoftmax(nn.Module):
    def __init__(self, emb_dim, n_classes, m, s):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_classes, emb_dim) * 0.01)
        self.m, self.s = m, s

    def forward(self, emb, labels):
        cosine = F.linear(F.normalize(emb), F.normalize(self.weight)).clamp(-1 + 1e-7, 1 - 1e-7)
        target = torch.cos(torch.acos(cosine) + self.m)
        one_hot = F.one_hot(labels, cosine.shape[1]).to(cosine.dtype)
        return F.cross_entropy(self.s * (one_hot * target + (1 - one_hot) * cosine), labels)


class SpeakerVerification(pl.LightningModule):
    def __init__(self, hp):
        super().__init__()
        self.hp = hp
        self.encoder = EcapaEncoder(hp)
        self.aam = AAMSoftmax(hp["emb_dim"], hp["n_speakers"], hp["margin"], hp["scale"])

    def training_step(self, batch, batch_idx):
        feats, spk = batch
        loss = self.aam(self.encoder(feats), spk)
        self.log("train/aam", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hp["lr"], weight_decay=2e-5)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.StepLR(opt, 1, 0.97),
                                                   "interval": "epoch"}}


def voxceleb_like(hp, n=24, frames=40):
    g = torch.Generator().manual_seed(0)
    spk = torch.arange(n) % hp["n_speakers"]
    protos = torch.randn(hp["n_speakers"], hp["n_mels"], 1, generator=g)
    feats = protos[spk] + 0.5 * torch.randn(n, hp["n_mels"], frames, generator=g)
    return DataLoader(TensorDataset(feats, spk), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = SpeakerVerification(HP)
    l1_0 = model.encoder.layer1.conv.weight.detach().clone()
    att0 = model.encoder.pool.attention[0].weight.detach().clone()
    fc0 = model.encoder.fc.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, voxceleb_like(HP))
    return {"model": model}, {
        "tdnn_changed": not torch.equal(l1_0, model.encoder.layer1.conv.weight),
        "attention_changed": not torch.equal(att0, model.encoder.pool.attention[0].weight),
        "embedding_fc_changed": not torch.equal(fc0, model.encoder.fc.weight),
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
