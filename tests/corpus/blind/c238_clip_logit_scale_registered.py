import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AudioTower(nn.Module):
    def __init__(self, n_mels=16, dim=16):
        super().__init__()
        self.conv = nn.Conv1d(n_mels, 32, 3, padding=1)
        self.proj = nn.Linear(32, dim)

    def forward(self, mels):
        return self.proj(F.gelu(self.conv(mels)).mean(-1))


class TextTower(nn.Module):
    def __init__(self, vocab=100, dim=16):
        super().__init__()
        self.tok = nn.EmbeddingBag(vocab, 32)
        self.proj = nn.Linear(32, dim)

    def forward(self, ids):
        return self.proj(self.tok(ids))


class CLAP(nn.Module):
    """Contrastive audio-text pretraining with a learnable temperature (logit scale)."""

    def __init__(self):
        super().__init__()
        self.audio = AudioTower()
        self.text = TextTower()
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))

    def forward(self, mels, ids):
        a = F.normalize(self.audio(mels), dim=-1)
        t = F.normalize(self.text(ids), dim=-1)
        scale = self.logit_scale.exp()
        return scale * a @ t.t(), scale * t @ a.t()


def contrastive_loss(logits_a, logits_t):
    labels = torch.arange(logits_a.size(0))
    return (F.cross_entropy(logits_a, labels) + F.cross_entropy(logits_t, labels)) / 2


def train(model, loader, optimizer, epochs=2):
    model.train()
    log = []
    for _ in range(epochs):
        for mels, ids in loader:
            loss = contrastive_loss(*model(mels, ids))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, math.log(100))
            log.append({"loss": loss.item(), "temperature": 1.0 / float(model.logit_scale.exp())})
    return log


def main():
    torch.manual_seed(0)
    model = CLAP()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.2}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=1e-3)
    loader = DataLoader(TensorDataset(torch.randn(32, 16, 10), torch.randint(0, 100, (32, 5))), batch_size=8)
    scale0 = model.logit_scale.detach().clone()
    log = train(model, loader, optimizer)
    return {"model": model}, {"logit_scale_changed": not torch.equal(scale0, model.logit_scale.detach()),
                              "logged_steps": len(log)}

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
