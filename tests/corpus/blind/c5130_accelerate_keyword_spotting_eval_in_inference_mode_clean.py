import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_mels": 10, "frames": 20, "classes": 5, "lr": 3e-3, "epochs": 3, "ema": 0.9, "eval_every": 1}


class KWSNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(cfg["n_mels"], 24, 3, padding=1), nn.BatchNorm1d(24), nn.ReLU(),
                                  nn.Conv1d(24, 24, 3, padding=2, dilation=2), nn.ReLU())
        self.fc = nn.Linear(24, cfg["classes"])

    def forward(self, mel):
        return self.fc(self.conv(mel).mean(-1))


@torch.no_grad()
def ema_update(ema_model, model, decay):
    for pe, p in zip(ema_model.parameters(), model.parameters()):
        pe.lerp_(p, 1 - decay)
    for be, b in zip(ema_model.buffers(), model.buffers()):
        be.copy_(b)


@torch.inference_mode()
def evaluate(model, loader):
    model.eval()
    correct = total = 0
    for mel, y in loader:
        correct += (model(mel).argmax(-1) == y).sum().item()
        total += y.numel()
    model.train()
    return correct / total


def train(accelerator, model, ema_model, optimizer, train_loader, val_loader, cfg):
    history = []
    for epoch in range(cfg["epochs"]):
        model.train()
        for mel, y in train_loader:
            loss = F.cross_entropy(model(mel), y, label_smoothing=0.1)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            ema_update(ema_model, model, cfg["ema"])
        if epoch % cfg["eval_every"] == 0:
            history.append((evaluate(model, val_loader), evaluate(ema_model, val_loader)))
    return history


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    mel = torch.randn(80, CFG["n_mels"], CFG["frames"], generator=g)
    y = mel[:, :CFG["classes"]].mean(-1).argmax(-1)
    train_loader = DataLoader(TensorDataset(mel[:64], y[:64]), batch_size=16, shuffle=True, generator=g)
    val_loader = DataLoader(TensorDataset(mel[64:], y[64:]), batch_size=16)
    model = KWSNet(CFG)
    ema_model = copy.deepcopy(model).requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"])
    model, optimizer, train_loader, val_loader = accelerator.prepare(model, optimizer, train_loader, val_loader)
    w0 = model.fc.weight.detach().clone()
    history = train(accelerator, model, ema_model, optimizer, train_loader, val_loader, CFG)
    return {"model": model}, {
        "model_changed": not torch.equal(w0, model.fc.weight),
        "ema_changed": not torch.equal(w0, ema_model.fc.weight),
        "evaluations": len(history),
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
