import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {
    "n_mels": 20, "channels": 32, "emb_dim": 16, "n_speakers": 5, "margin": 0.2, "scale": 30.0,
    "lr": 1e-3, "head_lr": 5e-3, "weight_decay": 2e-5, "epochs": 2, "batch": 8,
}


class SERes2Block(nn.Module):
    def __init__(self, c, k, d, scale=4):
        super().__init__()
        self.scale, w = scale, c // scale
        self.convs = nn.ModuleList([nn.Conv1d(w, w, k, dilation=d, padding=d * (k - 1) // 2) for _ in range(scale - 1)])
        self.bns = nn.ModuleList([nn.BatchNorm1d(w) for _ in range(scale - 1)])
        self.se1, self.se2 = nn.Linear(c, c // 4), nn.Linear(c // 4, c)

    def forward(self, x):
        chunks = x.chunk(self.scale, dim=1)
        out, y = [chunks[0]], None
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            y = chunks[i + 1] if y is None else chunks[i + 1] + y
            y = bn(F.relu(conv(y)))
            out.append(y)
        h = torch.cat(out, dim=1)
        s = torch.sigmoid(self.se2(F.relu(self.se1(h.mean(-1))))).unsqueeze(-1)
        return x + h * s


class EcapaLite(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg["channels"]
        self.stem = nn.Sequential(nn.Conv1d(cfg["n_mels"], c, 5, padding=2), nn.ReLU(), nn.BatchNorm1d(c))
        self.blocks = nn.Sequential(SERes2Block(c, 3, 2), SERes2Block(c, 3, 3))
        self.attention = nn.Sequential(nn.Conv1d(c, 16, 1), nn.Tanh(), nn.Conv1d(16, c, 1))
        self.fc = nn.Linear(2 * c, cfg["emb_dim"])

    def forward(self, x):
        h = self.blocks(self.stem(x))
        w = torch.softmax(self.attention(h), dim=-1)
        mu = (h * w).sum(-1)
        sd = ((h * h * w).sum(-1) - mu * mu).clamp(min=1e-5).sqrt()
        return self.fc(torch.cat([mu, sd], 1))


class AAMSoftmax(nn.Module):
    def __init__(self, emb_dim, n_classes, margin, scale):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_classes, emb_dim) * 0.01)
        self.m, self.s = margin, scale
        self.th, self.mm = math.cos(math.pi - margin), math.sin(math.pi - margin) * margin

    def forward(self, emb, labels):
        W = F.normalize(self.weight, dim=1)
        cosine = F.linear(F.normalize(emb, dim=1), W)
        sine = torch.sqrt((1.0 - cosine.pow(2)).clamp(1e-7, 1))
        phi = cosine * math.cos(self.m) - sine * math.sin(self.m)
        phi = torch.where(cosine - self.th > 0, phi, cosine - self.mm)
        one_hot = F.one_hot(labels, cosine.shape[1]).to(cosine.dtype)
        return F.cross_entropy(self.s * (one_hot * phi + (1 - one_hot) * cosine), labels)


class SpeakerModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.encoder = EcapaLite(cfg)
        self.loss_head = AAMSoftmax(cfg["emb_dim"], cfg["n_speakers"], cfg["margin"], cfg["scale"])

    def forward(self, feats, labels):
        return self.loss_head(self.encoder(feats), labels)


def build_optimizer(model, cfg):
    core = model.module if isinstance(model, nn.DataParallel) else model
    decay, no_decay = [], []
    for n, p in core.encoder.named_parameters():
        (no_decay if p.ndim == 1 else decay).append(p)
    return torch.optim.Adam([
        {"params": decay, "weight_decay": cfg["weight_decay"]},
        {"params": no_decay, "weight_decay": 0.0},
        {"params": core.loss_head.parameters(), "lr": cfg["head_lr"], "weight_decay": 0.0},
    ], lr=cfg["lr"])


def train_one_epoch(model, optimizer, data, cfg):
    model.train()
    feats, labels = data
    for i in range(0, len(labels), cfg["batch"]):
        loss = model(feats[i : i + cfg["batch"]], labels[i : i + cfg["batch"]]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(24) % CFG["n_speakers"]
    feats = torch.randn(CFG["n_speakers"], CFG["n_mels"], 1, generator=g)[labels] + 0.5 * torch.randn(24, CFG["n_mels"], 32, generator=g)
    model = nn.DataParallel(SpeakerModel(CFG))
    optimizer = build_optimizer(model, CFG)
    w0 = model.module.loss_head.weight.detach().clone()
    s0 = model.module.encoder.stem[0].weight.detach().clone()
    for _ in range(CFG["epochs"]):
        train_one_epoch(model, optimizer, (feats, labels), CFG)
    return {"model": model}, {
        "aam_weight_changed": not torch.equal(w0, model.module.loss_head.weight),
        "encoder_changed": not torch.equal(s0, model.module.encoder.stem[0].weight),
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
