import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LoRAAdapter(nn.Module):
    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base = base
        self.lora_down = nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        self.lora_up = nn.Parameter(torch.zeros(base.out_features, rank))
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.lora_down), self.lora_up) * self.scale


class InstructionTunedMLP(nn.Module):
    """A stand-in for a pretrained decoder block stack: token embedding, MLP blocks, LM head."""

    def __init__(self, vocab=32, d_model=16, n_blocks=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.blocks = nn.ModuleList([nn.ModuleDict({"up": nn.Linear(d_model, 2 * d_model), "down": nn.Linear(2 * d_model, d_model)})
                                     for _ in range(n_blocks)])
        self.lm_head = nn.Linear(d_model, vocab)

    def forward(self, ids):
        x = self.embed(ids)
        for blk in self.blocks:
            x = x + blk["down"](F.gelu(blk["up"](x)))
        return self.lm_head(x)


def inject_lora(model, targets, rank, alpha):
    for blk in model.blocks:
        for name in targets:
            blk[name] = LoRAAdapter(blk[name], rank, alpha)
    return model


def build_peft_model(cfg):
    model = InstructionTunedMLP()
    model = inject_lora(model, cfg["target_modules"], cfg["rank"], cfg["alpha"])
    model.requires_grad_(False)
    model.lm_head.requires_grad_(cfg["train_lm_head"])
    return model


def build_optimizer(model, cfg):
    trainable = [p for n, p in model.named_parameters() if p.requires_grad]
    return torch.optim.AdamW(trainable, lr=cfg["lr"], weight_decay=0.0)


def instruction_loader(n=16, seq=6, vocab=32):
    g = torch.Generator().manual_seed(0)
    ids = (torch.randint(0, vocab, (n, 1), generator=g) + torch.arange(seq)) % vocab
    return DataLoader(TensorDataset(ids), batch_size=8, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    cfg = {"target_modules": ("up", "down"), "rank": 4, "alpha": 8, "train_lm_head": False, "lr": 1e-2}
    model = build_peft_model(cfg)
    compiled = torch.compile(model, backend="eager")
    optimizer = build_optimizer(model, cfg)
    up0 = model.blocks[0]["up"].lora_up.detach().clone()
    for _ in range(2):
        for (ids,) in instruction_loader():
            logits = compiled(ids[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {"model": model}, {"lora_up_changed": not torch.equal(up0, model.blocks[0]["up"].lora_up)}

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
