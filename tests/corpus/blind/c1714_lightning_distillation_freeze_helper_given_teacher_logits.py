import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def freeze(*items):
    """Turn off gradients for modules or tensors (teacher networks, cached targets, ...)."""
    for item in items:
        params = item.parameters() if isinstance(item, nn.Module) else [item]
        for p in params:
            p.requires_grad_(False)


class Teacher(nn.Module):
    def __init__(self, in_dim=24, n_classes=5):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, n_classes))

    def forward(self, x):
        return self.net(x)


class Student(nn.Module):
    def __init__(self, in_dim=24, n_classes=5):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 16), nn.ReLU(), nn.Linear(16, n_classes))

    def forward(self, x):
        return self.net(x)


class Distiller(pl.LightningModule):
    def __init__(self, teacher, T=4.0, alpha=0.7, lr=3e-3):
        super().__init__()
        self.teacher, self.student = teacher, Student()
        self.input_norm = nn.BatchNorm1d(24)  # shared, learned feature normalisation in front of both nets
        freeze(self.teacher)
        self.T, self.alpha, self.lr = T, alpha, lr

    def kd_loss(self, s_logits, t_logits, y):
        soft = F.kl_div(F.log_softmax(s_logits / self.T, -1), F.softmax(t_logits / self.T, -1), reduction="batchmean")
        return self.alpha * soft * self.T ** 2 + (1 - self.alpha) * F.cross_entropy(s_logits, y)

    def training_step(self, batch, batch_idx):
        x, y = batch
        x = self.input_norm(x)
        t_logits = self.teacher(x)  # teacher sees the same normalised view
        freeze(t_logits)
        loss = self.kd_loss(self.student(x), t_logits, y)
        self.log("kd_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(list(self.student.parameters()) + list(self.input_norm.parameters()), lr=self.lr)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(48, 24, generator=g)
    y = torch.randint(0, 5, (48,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model = Distiller(Teacher())
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}

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
