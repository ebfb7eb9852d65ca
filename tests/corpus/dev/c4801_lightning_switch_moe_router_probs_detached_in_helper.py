import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"vocab": 48, "d_model": 32, "n_heads": 4, "n_experts": 4, "d_ff": 64, "seq": 12,
       "aux_weight": 0.01, "lr": 3e-3, "warmup": 4}


def route_tokens(router_logits, n_experts):
    """Top-1 (Switch) routing: gate value, expert id and dispatch mask per token (also used by the capacity report)."""
    probs = torch.softmax(router_logits, dim=-1).detach()
    gate, expert_idx = probs.max(dim=-1)
    mask = F.one_hot(expert_idx, n_experts).to(probs.dtype)
    return gate, expert_idx, mask, probs


def load_balancing_loss(mask, probs):
    """Switch Transformer auxiliary loss: N * sum_i f_i * P_i."""
    n_experts = probs.shape[-1]
    tokens_per_expert = mask.reshape(-1, n_experts).mean(0)
    prob_per_expert = probs.reshape(-1, n_experts).mean(0)
    return n_experts * (tokens_per_expert * prob_per_expert).sum()


class SwitchFFN(nn.Module):
    def __init__(self, d_model, d_ff, n_experts):
        super().__init__()
        self.n_experts = n_experts
        self.router = nn.Linear(d_model, n_experts, bias=False)
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model)) for _ in range(n_experts))

    def forward(self, x):
        B, T, D = x.shape
        flat = x.reshape(-1, D)
        gate, expert_idx, mask, probs = route_tokens(self.router(flat), self.n_experts)
        out = torch.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            sel = expert_idx == e
            if sel.any():
                out[sel] = expert(flat[sel]) * gate[sel].unsqueeze(-1)
        return out.reshape(B, T, D), load_balancing_loss(mask, probs)


class SwitchBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg["d_model"])
        self.attn = nn.MultiheadAttention(cfg["d_model"], cfg["n_heads"], batch_first=True)
        self.ln2 = nn.LayerNorm(cfg["d_model"])
        self.moe = SwitchFFN(cfg["d_model"], cfg["d_ff"], cfg["n_experts"])

    def forward(self, x, causal_mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=causal_mask, need_weights=False)[0]
        y, aux = self.moe(self.ln2(x))
        return x + y, aux


class SwitchLM(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg["vocab"], cfg["d_model"])
        self.pos = nn.Parameter(torch.zeros(1, cfg["seq"], cfg["d_model"]))
        self.block = SwitchBlock(cfg)
        self.ln_f = nn.LayerNorm(cfg["d_model"])
        self.lm_head = nn.Linear(cfg["d_model"], cfg["vocab"], bias=False)

    def forward(self, ids):
        T = ids.shape[1]
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        x = self.embed(ids) + self.pos[:, :T]
        x, aux = self.block(x, causal)
        return self.lm_head(self.ln_f(x)), aux

    def training_step(self, batch, batch_idx):
        (ids,) = batch
        logits, aux = self(ids[:, :-1])
        lm_loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        loss = lm_loss + self.cfg["aux_weight"] * aux
        self.log_dict({"lm_loss": lm_loss.item(), "aux": aux.item()})
        return {"loss": loss}

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg["lr"], weight_decay=0.01)
        warm = self.cfg["warmup"]
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def token_loader(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    start = torch.randint(0, cfg["vocab"], (n, 1), generator=g)
    ids = (start + torch.arange(cfg["seq"] + 1) * 3) % cfg["vocab"]
    return DataLoader(TensorDataset(ids), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = SwitchLM(CFG)
    router0 = model.block.moe.router.weight.detach().clone()
    expert0 = model.block.moe.experts[0][0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, token_loader(CFG))
    return {"model": model}, {
        "router_changed": not torch.equal(router0, model.block.moe.router.weight),
        "experts_changed": not torch.equal(expert0, model.block.moe.experts[0][0].weight),
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
