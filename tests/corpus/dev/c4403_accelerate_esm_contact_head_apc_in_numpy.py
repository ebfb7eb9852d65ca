import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

VOCAB = 25  # 20 amino acids + cls/eos/pad/mask/unk


class SelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.h, self.dk = heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x):
        B, L, D = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.h, self.dk).permute(2, 0, 3, 1, 4)
        probs = torch.softmax(q @ k.transpose(-1, -2) / self.dk ** 0.5, dim=-1)
        return self.out((probs @ v).transpose(1, 2).reshape(B, L, D)), probs


class ESMLayer(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = SelfAttention(d, heads)
        self.ffn = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        a, probs = self.attn(self.ln1(x))
        x = x + a
        return x + self.ffn(self.ln2(x)), probs


def symmetrize(x):
    return x + x.transpose(-1, -2)


def apc_numpy(attn):
    """Average product correction, as in the ESM contact paper (vectorised in numpy for readability)."""
    a = attn.detach().cpu().numpy()
    a1 = a.sum(-1, keepdims=True)
    a2 = a.sum(-2, keepdims=True)
    a12 = a.sum((-1, -2), keepdims=True)
    corrected = a - (a1 * a2) / a12
    return torch.from_numpy(corrected.astype(np.float32))


class ContactPredictionHead(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.regression = nn.Linear(in_features, 1)

    def forward(self, attentions):
        B, layers, heads, L, _ = attentions.shape
        feats = apc_numpy(symmetrize(attentions.reshape(B, layers * heads, L, L)))
        return self.regression(feats.permute(0, 2, 3, 1)).squeeze(-1)


class TinyESM(nn.Module):
    def __init__(self, d=32, heads=4, layers=2):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d, padding_idx=1)
        self.layers = nn.ModuleList([ESMLayer(d, heads) for _ in range(layers)])
        self.contact_head = ContactPredictionHead(layers * heads)

    def forward(self, tokens):
        x = self.embed(tokens)
        maps = []
        for layer in self.layers:
            x, probs = layer(x)
            maps.append(probs)
        return self.contact_head(torch.stack(maps, dim=1))


def contact_loader(n=16, L=12):
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(4, VOCAB, (n, L), generator=g)
    coords = torch.cumsum(torch.randn(n, L, 3, generator=g), dim=1)
    contacts = (torch.cdist(coords, coords) < 3.0).float()
    return DataLoader(TensorDataset(tokens, contacts), batch_size=8, shuffle=True, generator=g)


def train_one_epoch(model, loader, optimizer, accelerator):
    model.train()
    total = 0.0
    for tokens, contacts in loader:
        logits = model(tokens)
        loss = F.binary_cross_entropy_with_logits(logits, contacts)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = TinyESM()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, contact_loader())
    enc0 = model.layers[0].attn.qkv.weight.detach().clone()
    head0 = model.contact_head.regression.weight.detach().clone()
    for epoch in range(2):
        train_one_epoch(model, loader, optimizer, accelerator)
    return {"model": model}, {
        "encoder_changed": not torch.equal(enc0, model.layers[0].attn.qkv.weight),
        "contact_head_changed": not torch.equal(head0, model.contact_head.regression.weight),
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
