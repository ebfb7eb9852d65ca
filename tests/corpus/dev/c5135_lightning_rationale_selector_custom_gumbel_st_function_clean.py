import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"vocab": 40, "emb": 16, "seq": 10, "picks": 2, "classes": 2, "tau": 0.7, "lr": 3e-3, "epochs": 2}


class HardGumbelST(torch.autograd.Function):
    """One-hot sample in the forward pass, the relaxed softmax's gradient in the backward pass."""

    @staticmethod
    def forward(ctx, logits, noise, tau):
        soft = torch.softmax((logits + noise) / tau, dim=-1)
        ctx.save_for_backward(soft)
        ctx.tau = tau
        return F.one_hot(soft.argmax(-1), soft.size(-1)).to(soft.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (soft,) = ctx.saved_tensors
        grad_logits = soft * (grad_out - (grad_out * soft).sum(-1, keepdim=True)) / ctx.tau
        return grad_logits, None, None


def sample_gumbel(shape, gen):
    u = torch.rand(shape, generator=gen).clamp(1e-9, 1 - 1e-9)
    return -torch.log(-torch.log(u))


class RationaleModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg["vocab"], cfg["emb"])
        self.selector = nn.Sequential(nn.Linear(cfg["emb"], 32), nn.Tanh(), nn.Linear(32, cfg["picks"]))
        self.predictor = nn.Sequential(nn.Linear(cfg["picks"] * cfg["emb"], 32), nn.ReLU(), nn.Linear(32, cfg["classes"]))

    def forward(self, tokens, gen):
        e = self.embed(tokens)                                     # (B, T, E)
        scores = self.selector(e).transpose(1, 2)                  # (B, picks, T)
        pick = HardGumbelST.apply(scores, sample_gumbel(scores.shape, gen), self.cfg["tau"])
        chosen = pick @ e                                          # (B, picks, E)
        return self.predictor(chosen.flatten(1))


class RationaleModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = RationaleModel(cfg)
        self.gen = torch.Generator().manual_seed(5)

    def training_step(self, batch, batch_idx):
        tokens, y = batch
        loss = F.cross_entropy(self.model(tokens, self.gen), y)
        self.log("loss", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg["lr"])
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.cfg["lr"], total_steps=16)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def token_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, cfg["vocab"], (n, cfg["seq"]), generator=g)
    y = (tokens == 7).any(1).long()
    return DataLoader(TensorDataset(tokens, y), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = RationaleModule(CFG)
    sel0 = module.model.selector[2].weight.detach().clone()
    pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False).fit(module, token_loader(CFG))
    tokens, y = next(iter(token_loader(CFG)))
    module.zero_grad()
    F.cross_entropy(module.model(tokens, module.gen), y).backward()
    return {"model": module.model}, {"selector_changed": not torch.equal(sel0, module.model.selector[2].weight)}

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
