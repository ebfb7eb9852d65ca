import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_mels": 8, "d_model": 32, "heads": 4, "layers": 2, "vocab": 10, "lr": 1e-3, "epochs": 2, "clip": 5.0}


def rel_positions(T, d):
    pos = torch.arange(T - 1, -T, -1.0)[:, None]
    div = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
    pe = torch.zeros(2 * T - 1, d)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
    return pe


class RelPositionMultiHeadAttention(nn.Module):
    """Transformer-XL style attention with content bias u and position bias v (as in Conformer)."""

    def __init__(self, d, heads):
        super().__init__()
        self.h, self.dk = heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.linear_pos = nn.Linear(d, d, bias=False)
        self.out = nn.Linear(d, d)
        self.pos_bias_u = torch.zeros(heads, self.dk, requires_grad=True)
        self.pos_bias_v = torch.zeros(heads, self.dk, requires_grad=True)
        nn.init.xavier_uniform_(self.pos_bias_u)
        nn.init.xavier_uniform_(self.pos_bias_v)

    @staticmethod
    def rel_shift(x):
        B, H, T, P = x.shape
        x = F.pad(x, (1, 0)).view(B, H, P + 1, T)[:, :, 1:].view(B, H, T, P)
        return x[..., :P // 2 + 1]

    def forward(self, x, pos_emb):
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.h, self.dk).unbind(2)
        p = self.linear_pos(pos_emb).view(-1, self.h, self.dk).transpose(0, 1)
        ac = torch.einsum("bthd,bshd->bhts", q + self.pos_bias_u, k)
        bd = self.rel_shift(torch.einsum("bthd,hpd->bhtp", q + self.pos_bias_v, p))
        attn = torch.softmax((ac + bd) / math.sqrt(self.dk), dim=-1)
        return self.out(torch.einsum("bhts,bshd->bthd", attn, v).reshape(B, T, D))


class ConformerBlock(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ff1 = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.SiLU(), nn.Linear(2 * d, d))
        self.norm_att = nn.LayerNorm(d)
        self.attn = RelPositionMultiHeadAttention(d, heads)
        self.conv = nn.Conv1d(d, d, 3, padding=1, groups=d)
        self.ff2 = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.SiLU(), nn.Linear(2 * d, d))
        self.norm_out = nn.LayerNorm(d)

    def forward(self, x, pos_emb):
        x = x + 0.5 * self.ff1(x)
        x = x + self.attn(self.norm_att(x), pos_emb)
        x = x + self.conv(x.transpose(1, 2)).transpose(1, 2)
        return self.norm_out(x + 0.5 * self.ff2(x))


class ConformerCTC(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.inp = nn.Linear(cfg["n_mels"], cfg["d_model"])
        self.blocks = nn.ModuleList([ConformerBlock(cfg["d_model"], cfg["heads"]) for _ in range(cfg["layers"])])
        self.ctc = nn.Linear(cfg["d_model"], cfg["vocab"])

    def forward(self, feats):
        x = self.inp(feats)
        pos = rel_positions(x.shape[1], x.shape[2])
        for blk in self.blocks:
            x = blk(x, pos)
        return self.ctc(x).log_softmax(-1)


def librispeech_like(n=16, T=12, n_mels=8, vocab=10):
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(n, T, n_mels, generator=g)
    targets = torch.randint(1, vocab, (n, 4), generator=g)
    return DataLoader(TensorDataset(feats, targets), batch_size=8, shuffle=True, generator=g)


def train_one_epoch(model, loader, optimizer, accelerator, cfg):
    for feats, targets in loader:
        log_probs = model(feats).transpose(0, 1)
        in_lens = torch.full((feats.shape[0],), feats.shape[1], dtype=torch.long)
        tgt_lens = torch.full((feats.shape[0],), targets.shape[1], dtype=torch.long)
        loss = F.ctc_loss(log_probs, targets, in_lens, tgt_lens, zero_infinity=True)
        optimizer.zero_grad()
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(model.parameters(), cfg["clip"])
        optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = ConformerCTC(CFG)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"])
    model, optimizer, loader = accelerator.prepare(model, optimizer, librispeech_like())
    u0 = model.blocks[0].attn.pos_bias_u.detach().clone()
    qkv0 = model.blocks[0].attn.qkv.weight.detach().clone()
    for epoch in range(CFG["epochs"]):
        train_one_epoch(model, loader, optimizer, accelerator, CFG)
    return {"model": model, "pos_bias_u": model.blocks[0].attn.pos_bias_u}, {
        "pos_bias_changed": not torch.equal(u0, model.blocks[0].attn.pos_bias_u.detach()),
        "attention_qkv_changed": not torch.equal(qkv0, model.blocks[0].attn.qkv.weight),
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
