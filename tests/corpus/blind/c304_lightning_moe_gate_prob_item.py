import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning.pytorch as pl


class Top1MoE(nn.Module):
    """Switch-style layer: each sample goes to its highest-scoring expert, scaled by the router probability."""

    def __init__(self, dim=16, n_experts=4, hidden=32):
        super().__init__()
        self.router = nn.Linear(dim, n_experts)
        self.experts = nn.ModuleList(
            [nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)) for _ in range(n_experts)])

    def forward(self, x):
        probs = self.router(x).softmax(dim=-1)
        outputs = []
        for i in range(x.size(0)):
            expert_id = int(probs[i].argmax())
            gate = probs[i, expert_id].item()
            outputs.append(gate * self.experts[expert_id](x[i]))
        return x + torch.stack(outputs), probs


class MoEClassifier(pl.LightningModule):
    def __init__(self, in_dim=12, dim=16, n_classes=3, aux_weight=0.0):
        super().__init__()
        self.inp = nn.Linear(in_dim, dim)
        self.moe = Top1MoE(dim)
        self.head = nn.Linear(dim, n_classes)
        self.aux_weight = aux_weight

    def forward(self, x):
        h, probs = self.moe(F.gelu(self.inp(x)))
        return self.head(h), probs

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits, probs = self(x)
        loss = F.cross_entropy(logits, y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=5e-3)


def make_loader(n=48, in_dim=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, in_dim, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = MoEClassifier()
    router_before = model.moe.router.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
    facts = {"router_changed": not torch.equal(router_before, model.moe.router.weight.detach())}
    return {"model": model}, facts

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
