import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from lightning.pytorch import Callback
from torch.utils.data import DataLoader, TensorDataset

PRUNE = {"rate_per_round": 0.2, "lr": 0.05, "epochs": 3, "in_dim": 20, "hidden": 48, "classes": 4}


def magnitude_mask(weight, current_mask, rate):
    """Drop `rate` of the surviving weights with the smallest magnitude."""
    alive = weight[current_mask.bool()].abs()
    k = int(rate * alive.numel())
    if k == 0:
        return current_mask
    threshold = alive.kthvalue(k).values
    return current_mask * (weight.abs() > threshold).float()


def rewind_layer(layer, init, mask):
    layer.weight = nn.Parameter(init * mask)


class MLP(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.hidden = nn.ModuleList([nn.Linear(cfg["in_dim"], cfg["hidden"]), nn.Linear(cfg["hidden"], cfg["hidden"])])
        self.out = nn.Linear(cfg["hidden"], cfg["classes"])

    def forward(self, x):
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.out(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train/loss", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.cfg["lr"], momentum=0.9)


class LotteryTicketRewind(Callback):
    def __init__(self, rate):
        self.rate = rate
        self.init_weights = None
        self.masks = None
        self.after_rewind = None

    def on_fit_start(self, trainer, pl_module):
        self.init_weights = [l.weight.detach().clone() for l in pl_module.hidden]
        self.masks = [torch.ones_like(w) for w in self.init_weights]

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        with torch.no_grad():
            for layer, mask in zip(pl_module.hidden, self.masks):
                layer.weight.mul_(mask)

    def on_train_epoch_end(self, trainer, pl_module):
        for k, layer in enumerate(pl_module.hidden):
            self.masks[k] = magnitude_mask(layer.weight.detach(), self.masks[k], self.rate)
            rewind_layer(layer, self.init_weights[k], self.masks[k])
        self.after_rewind = pl_module.hidden[0].weight.detach().clone()

    def sparsity(self):
        return [1.0 - m.mean().item() for m in self.masks]


class TicketProbe(Callback):
    """Snapshots the first hidden layer at the start and end of every epoch (before the rewind)."""

    def __init__(self):
        self.snapshots = {}

    def on_train_epoch_start(self, trainer, pl_module):
        self.snapshots[("start", trainer.current_epoch)] = pl_module.hidden[0].weight.detach().clone()

    def on_train_epoch_end(self, trainer, pl_module):
        self.snapshots[("end", trainer.current_epoch)] = pl_module.hidden[0].weight.detach().clone()


def toy_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, cfg["in_dim"], generator=g)
    y = (x[:, :4].argmax(-1))
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = MLP(PRUNE)
    ticket = LotteryTicketRewind(PRUNE["rate_per_round"])
    head0 = model.out.weight.detach().clone()
    probe = TicketProbe()
    trainer = pl.Trainer(max_epochs=PRUNE["epochs"], callbacks=[probe, ticket], logger=False,
                         enable_checkpointing=False)
    trainer.fit(model, toy_loader(PRUNE))
    last = PRUNE["epochs"] - 1
    return {"model": model}, {
        "ticket_trained_after_rewind": not torch.equal(probe.snapshots[("start", last)], probe.snapshots[("end", last)]),
        "head_changed": not torch.equal(head0, model.out.weight),
        "sparsity_layer0": round(ticket.sparsity()[0], 2),
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
