import torch
import torch.nn as nn
import torch.nn.functional as F


class Generator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.dec = nn.Conv2d(ch, 3, 3, padding=1)

    def forward(self, x, encode_only=False):
        feat = self.enc(x)
        return feat if encode_only else torch.tanh(self.dec(feat))


class PatchSampleMLP(nn.Module):
    def __init__(self, ch=8, dim=16):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(ch, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, feat, patch_ids):
        flat = feat.flatten(2).transpose(1, 2)[:, patch_ids]
        return F.normalize(self.mlp(flat), dim=-1)


def patch_nce_loss(feat_q, feat_k, tau=0.07):
    b, n, d = feat_q.shape
    feat_k = feat_k.detach()
    l_pos = (feat_q * feat_k).sum(-1, keepdim=True)
    l_neg = torch.bmm(feat_q, feat_k.transpose(1, 2))
    diagonal = torch.eye(n, dtype=torch.bool)[None]
    l_neg.masked_fill_(diagonal, -10.0)
    logits = torch.cat([l_pos, l_neg], dim=-1).flatten(0, 1) / tau
    return F.cross_entropy(logits, torch.zeros(b * n, dtype=torch.long))


def train(netG, netF, steps=4):
    G, Fm = torch.compile(netG, backend="eager"), torch.compile(netF, backend="eager")
    optimizer = torch.optim.Adam(list(netG.parameters()) + list(netF.parameters()), lr=2e-4, betas=(0.5, 0.999))
    for _ in range(steps):
        real_a = torch.randn(2, 3, 8, 8)
        fake_b = G(real_a)
        patch_ids = torch.randperm(64)[:12]
        feat_q = Fm(G(fake_b, encode_only=True), patch_ids)
        feat_k = Fm(G(real_a, encode_only=True), patch_ids)
        loss = patch_nce_loss(feat_q, feat_k) + 0.1 * fake_b.abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    netG, netF = Generator(), PatchSampleMLP()
    dec0 = netG.dec.weight.detach().clone()
    train(netG, netF)
    return {"netG": netG, "netF": netF}, {"generator_changed": not torch.equal(dec0, netG.dec.weight)}

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
