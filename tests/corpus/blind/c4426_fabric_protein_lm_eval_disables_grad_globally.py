import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric

CFG = {"vocab": 25, "d": 32, "heads": 4, "layers": 2, "lr": 5e-4, "epochs": 2, "mask_prob": 0.15, "mask_id": 3}


class ProteinLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed = nn.Embedding(cfg["vocab"], cfg["d"])
        self.pos = nn.Parameter(torch.zeros(1, 64, cfg["d"]))
        layer = nn.TransformerEncoderLayer(cfg["d"], cfg["heads"], 2 * cfg["d"], dropout=0.1, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, cfg["layers"])
        self.lm_head = nn.Linear(cfg["d"], cfg["vocab"])

    def forward(self, tokens):
        x = self.embed(tokens) + self.pos[:, :tokens.shape[1]]
        return self.lm_head(self.encoder(x))


def mask_tokens(tokens, cfg, g):
    pick = torch.rand(tokens.shape, generator=g) < cfg["mask_prob"]
    pick[:, 0] = True
    labels = torch.where(pick, tokens, torch.full_like(tokens, -100))
    return torch.where(pick, torch.full_like(tokens, cfg["mask_id"]), tokens), labels


def evaluate(model, batches, cfg):
    """Masked-token perplexity on held-out sequences."""
    torch.set_grad_enabled(False)
    model.eval()
    g = torch.Generator().manual_seed(123)
    nll, count = 0.0, 0
    for tokens in batches:
        inputs, labels = mask_tokens(tokens, cfg, g)
        logits = model(inputs)
        nll += F.cross_entropy(logits.view(-1, cfg["vocab"]), labels.view(-1), ignore_index=-100,
                               reduction="sum").item()
        count += int((labels != -100).sum())
    model.train()
    return math.exp(nll / max(count, 1))


def train_one_epoch(fabric, model, optimizer, batches, cfg, g):
    for tokens in batches:
        inputs, labels = mask_tokens(tokens, cfg, g)
        logits = model(inputs)
        loss = F.cross_entropy(logits.view(-1, cfg["vocab"]), labels.view(-1), ignore_index=-100)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()


def uniref_like(n, L=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return list(torch.randint(4, 24, (n, L), generator=g).split(8))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = ProteinLM(CFG)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    train_batches, val_batches = uniref_like(32), uniref_like(8, seed=1)
    g = torch.Generator().manual_seed(0)
    perplexities = []
    for epoch in range(CFG["epochs"]):
        train_one_epoch(fabric, model, optimizer, train_batches, CFG, g)
        perplexities.append(evaluate(model, val_batches, CFG))
    return {"model": model.module}, {"epochs_completed": len(perplexities)}

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
