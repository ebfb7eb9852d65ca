import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Expert(nn.Module):
    def __init__(self, dim, hidden=32):
        super().__init__()
        self.ff = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        return self.ff(x)


class TopKMoE(nn.Module):
    def __init__(self, dim=16, n_experts=4, k=2):
        super().__init__()
        self.gate = nn.Linear(dim, n_experts)
        self.experts = [Expert(dim) for _ in range(n_experts)]
        self.k = k

    def forward(self, x):
        scores, idx = self.gate(x).topk(self.k, dim=-1)
        weights = F.softmax(scores, dim=-1)
        out = torch.zeros_like(x)
        for slot in range(self.k):
            for e, expert in enumerate(self.experts):
                sel = idx[:, slot] == e
                if sel.any():
                    out[sel] += weights[sel, slot, None] * expert(x[sel])
        return x + out


class MoETabularClassifier(pl.LightningModule):
    def __init__(self, d_in=10, dim=16, n_classes=3):
        super().__init__()
        self.inp = nn.Linear(d_in, dim)
        self.moe = TopKMoE(dim)
        self.out = nn.Linear(dim, n_classes)

    def forward(self, x):
        return self.out(self.moe(F.gelu(self.inp(x))))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=3e-3)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, 1, gamma=0.9)}


def main():
    pl.seed_everything(0)
    x = torch.randn(64, 10)
    y = (x[:, 0] > 0).long() + (x[:, 3] > 0.5).long()
    model = MoETabularClassifier()
    e0 = model.moe.experts[0].ff[0].weight.detach().clone()
    g0 = model.moe.gate.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(
        model, DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True))
    return {"model": model, "expert0": model.moe.experts[0].ff[0].weight}, {
        "experts_changed": not torch.equal(e0, model.moe.experts[0].ff[0].weight),
        "gate_changed": not torch.equal(g0, model.moe.gate.weight),
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
