import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def mlp(in_dim, hidden, out_dim, depth):
    layers, d = [], in_dim
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), nn.ReLU()]
        d = hidden
    layers.append(nn.Linear(d, out_dim))
    return nn.Sequential(*layers)


def freeze(module):
    module.requires_grad_(False)
    module.eval()
    return module


class DistillModule(pl.LightningModule):
    def __init__(self, teacher, in_dim=20, num_classes=5, temperature=3.0, alpha=0.7, lr=3e-3):
        super().__init__()
        self.teacher = freeze(teacher)
        self.student = mlp(in_dim, 16, num_classes, depth=1)
        self.T, self.alpha, self.lr = temperature, alpha, lr

    def on_train_epoch_start(self):
        self.teacher.eval()  # Trainer.fit() puts every submodule back into train mode

    def distill_loss(self, s_logits, t_logits, y):
        soft = F.kl_div(F.log_softmax(s_logits / self.T, dim=-1), F.softmax(t_logits / self.T, dim=-1),
                        reduction="batchmean") * self.T ** 2
        hard = F.cross_entropy(s_logits, y)
        return self.alpha * soft + (1 - self.alpha) * hard

    def training_step(self, batch, batch_idx):
        x, y = batch
        with torch.no_grad():
            t_logits = self.teacher(x)
        s_logits = self.student(x)
        loss = self.distill_loss(s_logits, t_logits, y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        acc = (self.student(x).argmax(-1) == y).float().mean()
        self.log("val_acc", acc)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.student.parameters(), lr=self.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, 0.9)}


def make_loaders(in_dim=20, num_classes=5, n=192):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, num_classes, (n,), generator=g)
    x = torch.randn(n, in_dim, generator=g) + F.one_hot(y, in_dim).float() * 2
    ds = TensorDataset(x, y)
    return (DataLoader(ds, batch_size=32, shuffle=True, generator=g),
            DataLoader(TensorDataset(x[:64], y[:64]), batch_size=32))


def main():
    pl.seed_everything(0)
    teacher = mlp(20, 64, 5, depth=3)
    model = DistillModule(teacher)
    teacher_before = model.teacher[0].weight.detach().clone()
    student_before = model.student[0].weight.detach().clone()
    train_loader, val_loader = make_loaders()
    trainer = pl.Trainer(max_epochs=2, limit_train_batches=3, limit_val_batches=1, logger=False)
    trainer.fit(model, train_loader, val_loader)
    return {"model": model}, {
        "teacher_changed": not torch.equal(teacher_before, model.teacher[0].weight),
        "student_changed": not torch.equal(student_before, model.student[0].weight),
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
