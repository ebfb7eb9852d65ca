import io
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

CONFIG = {"n_features": 12, "hidden": 32, "n_classes": 3, "lr": 3e-3, "epochs": 2, "resume": True}


class ResidualMLPBlock(nn.Module):
    def __init__(self, dim, dropout=0.1):
        super().__init__()
        self.ff = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU(), nn.Dropout(dropout))

    def forward(self, x):
        return x + self.ff(x)


class TabularNet(nn.Module):
    def __init__(self, n_features, hidden, n_classes):
        super().__init__()
        self.inp = nn.Linear(n_features, hidden)
        self.blocks = nn.Sequential(ResidualMLPBlock(hidden), ResidualMLPBlock(hidden))
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.out(self.blocks(self.inp(x)))


def build_model(cfg):
    return TabularNet(cfg["n_features"], cfg["hidden"], cfg["n_classes"])


def build_optimizer(model, cfg):
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg["lr"], total_steps=20)
    return optimizer, scheduler


def load_pretrained(cfg, checkpoint):
    model = build_model(cfg)
    model.load_state_dict(torch.load(checkpoint, weights_only=True))
    return model


def fake_checkpoint(cfg):
    buf = io.BytesIO()
    torch.save(build_model(cfg).state_dict(), buf)
    buf.seek(0)
    return buf


def make_loader(cfg, n=48, bs=8):
    g = torch.Generator().manual_seed(9)
    x = torch.randn(n, cfg["n_features"], generator=g)
    y = (x[:, :3].argmax(1))
    return DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)


def train(accelerator, model, optimizer, scheduler, loader, epochs):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    cfg = CONFIG
    model = build_model(cfg)
    optimizer, scheduler = build_optimizer(model, cfg)
    if cfg["resume"]:
        model = load_pretrained(cfg, fake_checkpoint(cfg))
    loader = make_loader(cfg)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    w0 = model.inp.weight.detach().clone()
    train(accelerator, model, optimizer, scheduler, loader, cfg["epochs"])
    in_opt = any(p is model.inp.weight for g in optimizer.param_groups for p in g["params"])
    return {"model": model}, {"model_changed": not torch.equal(w0, model.inp.weight), "weights_in_optimizer": in_opt}

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
