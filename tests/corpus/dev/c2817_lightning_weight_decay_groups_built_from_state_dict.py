import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

NO_DECAY_KEYS = ("bias", "norm", "bn")


class ResidualMLPBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)

    def forward(self, x):
        return x + self.fc2(F.gelu(self.fc1(self.norm(x))))


class ChurnNet(nn.Module):
    def __init__(self, n_features=12, dim=16, depth=2):
        super().__init__()
        self.inp = nn.Linear(n_features, dim)
        self.blocks = nn.Sequential(*[ResidualMLPBlock(dim) for _ in range(depth)])
        self.head = nn.Linear(dim, 1)

    def forward(self, x):
        return self.head(self.blocks(self.inp(x))).squeeze(-1)


def split_decay_groups(named_tensors, weight_decay):
    decay, no_decay = [], []
    for name, tensor in named_tensors:
        (no_decay if any(k in name for k in NO_DECAY_KEYS) else decay).append(tensor)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def count_parameters(module):
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return total, trainable


class ChurnModule(pl.LightningModule):
    def __init__(self, lr=1e-2, weight_decay=0.05, warmup_steps=4):
        super().__init__()
        self.net = ChurnNet()
        self.lr, self.weight_decay, self.warmup_steps = lr, weight_decay, warmup_steps

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.binary_cross_entropy_with_logits(self.net(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        acc = ((self.net(x) > 0).float() == y).float().mean()
        self.log("val/acc", acc, prog_bar=True)

    def on_fit_start(self):
        total, trainable = count_parameters(self.net)
        self.print(f"params: {total} total, {trainable} trainable")

    def configure_optimizers(self):
        groups = split_decay_groups(self.net.state_dict().items(), self.weight_decay)
        optimizer = torch.optim.AdamW(groups, lr=self.lr)
        warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / self.warmup_steps))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": warmup, "interval": "step"}}


def make_loader(n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 12, generator=g)
    y = ((x[:, 0] - 0.5 * x[:, 3] + 0.2 * torch.randn(n, generator=g)) > 0).float()
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = ChurnModule()
    before = {k: v.clone() for k, v in module.net.state_dict().items()}
    trainer = pl.Trainer(max_epochs=2, logger=False, gradient_clip_val=1.0)
    loader = make_loader()
    trainer.fit(module, loader, loader)
    after = module.net.state_dict()
    facts = {"any_weight_changed": any(not torch.equal(before[k], after[k]) for k in before)}
    return {"net": module.net}, facts

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
