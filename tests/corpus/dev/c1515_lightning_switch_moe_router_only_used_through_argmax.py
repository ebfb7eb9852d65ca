import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Expert(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.ff = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        return self.ff(x)


class SwitchFeedForward(nn.Module):
    """Top-1 (switch) routing: every token is processed by exactly one expert."""

    def __init__(self, dim=16, hidden=32, n_experts=4):
        super().__init__()
        self.router = nn.Linear(dim, n_experts)
        self.experts = nn.ModuleList(Expert(dim, hidden) for _ in range(n_experts))

    def forward(self, x):
        flat = x.reshape(-1, x.size(-1))
        route_prob = F.softmax(self.router(flat), dim=-1)
        routes = route_prob.argmax(dim=-1)
        out = torch.zeros_like(flat)
        for i, expert in enumerate(self.experts):
            sel = routes == i
            if sel.any():
                out[sel] = expert(flat[sel])
        return out.view_as(x)


class SwitchClassifier(nn.Module):
    def __init__(self, vocab=60, dim=16, n_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.norm = nn.LayerNorm(dim)
        self.moe = SwitchFeedForward(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        h = h + self.moe(self.norm(h))
        return self.head(h.mean(dim=1))


class SwitchModule(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = SwitchClassifier()

    def training_step(self, batch, batch_idx):
        tokens, labels = batch
        loss = F.cross_entropy(self.net(tokens), labels)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=2e-3)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.9 ** e)}


def main():
    pl.seed_everything(2)
    g = torch.Generator().manual_seed(2)
    tokens = torch.randint(0, 60, (48, 10), generator=g)
    labels = tokens[:, 0] % 3
    loader = DataLoader(TensorDataset(tokens, labels), batch_size=12, shuffle=True, generator=g)
    module = SwitchModule()
    router0 = module.net.moe.router.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(module, loader)
    return {"net": module.net}, {"router_changed": not torch.equal(router0, module.net.moe.router.weight)}

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
