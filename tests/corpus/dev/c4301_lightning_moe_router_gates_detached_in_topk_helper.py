import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def top_k_gating(router_logits, k):
    """Pick k experts per token and return their renormalised mixing weights."""
    probs = torch.softmax(router_logits, dim=-1)
    gates = probs.detach()
    top_w, top_idx = gates.topk(k, dim=-1)
    top_w = top_w / top_w.sum(-1, keepdim=True)
    return top_w, top_idx, probs


class Expert(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class SparseMoE(nn.Module):
    def __init__(self, dim, hidden, n_experts, k):
        super().__init__()
        self.router = nn.Linear(dim, n_experts, bias=False)
        self.experts = nn.ModuleList([Expert(dim, hidden) for _ in range(n_experts)])
        self.k = k

    def forward(self, x):
        tokens = x.reshape(-1, x.shape[-1])
        weights, idx, probs = top_k_gating(self.router(tokens), self.k)
        out = torch.zeros_like(tokens)
        for e, expert in enumerate(self.experts):
            hit = idx == e
            rows = hit.any(-1).nonzero(as_tuple=True)[0]
            if rows.numel() == 0:
                continue
            w = (weights * hit).sum(-1)[rows].unsqueeze(-1)
            out = out.index_add(0, rows, w * expert(tokens[rows]))
        return out.view_as(x), probs


class MoEBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.norm = nn.LayerNorm(cfg["dim"])
        self.moe = SparseMoE(cfg["dim"], cfg["hidden"], cfg["n_experts"], cfg["top_k"])

    def forward(self, h):
        out, probs = self.moe(self.norm(h))
        return h + out, probs


class MoESequenceClassifier(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.save_hyperparameters(cfg)
        self.embed = nn.Linear(cfg["in_dim"], cfg["dim"])
        self.block = MoEBlock(cfg)
        self.head = nn.Linear(cfg["dim"], cfg["n_classes"])
        self.lr = cfg["lr"]

    def forward(self, x):
        h, probs = self.block(self.embed(x))
        return self.head(h.mean(1)), probs

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits, probs = self(x)
        loss = F.cross_entropy(logits, y)
        with torch.no_grad():
            usage = probs.mean(0)
        self.log("router/max_usage", usage.max().item())
        self.log("train/loss", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=0.0)


def make_loader(cfg, n=48):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, cfg["seq_len"], cfg["in_dim"], generator=g)
    y = (x[:, :, 0].mean(1) > 0).long()
    return DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    cfg = {"in_dim": 8, "dim": 16, "hidden": 32, "n_experts": 4, "top_k": 2, "n_classes": 2,
           "seq_len": 6, "lr": 3e-3}
    model = MoESequenceClassifier(cfg)
    router0 = model.block.moe.router.weight.detach().clone()
    experts0 = [e.fc1.weight.detach().clone() for e in model.block.moe.experts]
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader(cfg))
    experts_changed = any(not torch.equal(w0, e.fc1.weight) for w0, e in zip(experts0, model.block.moe.experts))
    return {"model": model}, {
        "router_changed": not torch.equal(router0, model.block.moe.router.weight),
        "experts_changed": experts_changed,
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
