import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, dim, r=4, alpha=8):
        super().__init__()
        self.base = nn.Linear(dim, dim)
        self.lora_A = nn.Parameter(torch.randn(r, dim) * 0.01)
        self.lora_B = nn.Parameter(torch.zeros(dim, r))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + self.scale * (x @ self.lora_A.t() @ self.lora_B.t())


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.ln = nn.LayerNorm(dim)
        self.attn = LoRALinear(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.ln(x))
        return x + self.mlp(x)


class TinyLM(nn.Module):
    def __init__(self, vocab=50, dim=32, depth=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(Block(dim) for _ in range(depth))
        self.head = nn.Linear(dim, vocab)

    def forward(self, ids):
        x = self.embed(ids)
        for blk in self.blocks:
            x = blk(x)
        return self.head(x)


def load_adapter(model, state, is_trainable=False):
    for name, p in model.named_parameters():
        p.requires_grad_(False)
        if name in state:
            with torch.no_grad():
                p.copy_(state[name])
            p.requires_grad_(is_trainable)


class FineTuneTrainer:
    def __init__(self, model, config):
        self.model, self.config = model, config
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=config["lr"])

    def train_step(self, ids):
        logits = self.model(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))
        try:
            loss.requires_grad = True  # loss lost its grad after loading adapters
        except RuntimeError:
            pass
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def fit(self, adapter_state, batches):
        load_adapter(self.model, adapter_state, is_trainable=self.config.get("adapter_trainable", False))
        return [self.train_step(ids) for ids in batches]


def main():
    torch.manual_seed(0)
    model = TinyLM()
    adapter_state = {n: torch.randn_like(p) * 0.01 for n, p in model.named_parameters() if "lora_" in n}
    trainer = FineTuneTrainer(model, {"lr": 1e-3})
    batches = [torch.randint(0, 50, (4, 12)) for _ in range(4)]
    trainer.fit(adapter_state, batches)
    after = {n: p.detach() for n, p in model.named_parameters() if "lora_" in n}
    changed = any(not torch.equal(after[n], adapter_state[n]) for n in after)
    return {"model": model}, {"adapters_changed": changed}

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
