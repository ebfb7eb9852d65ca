import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

CFG = {"vocab": 10, "hidden": 16, "lr": 1e-3, "epochs": 2, "val_every": 2}


class PlateRecognizer(nn.Module):
    """CRNN for licence-plate strings: conv columns -> GRU -> per-column characters (CTC)."""

    def __init__(self, cfg):
        super().__init__()
        self.cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d((2, 1)),
                                 nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d((1, None)))
        self.rnn = nn.GRU(16, cfg["hidden"], batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * cfg["hidden"], cfg["vocab"])

    def forward(self, x):
        seq, _ = self.rnn(self.cnn(x).squeeze(2).transpose(1, 2))
        return self.fc(seq).log_softmax(-1)


def ctc_loss(model, images, targets, target_lens):
    log_probs = model(images).transpose(0, 1)
    in_lens = torch.full((images.size(0),), log_probs.size(0), dtype=torch.long)
    return F.ctc_loss(log_probs, targets, in_lens, target_lens, zero_infinity=True)


def validate(model, loader):
    model.eval()
    torch.set_grad_enabled(False)
    total = sum(ctc_loss(model, x, t, l).item() for x, t, l in loader)
    model.train()
    return total / len(loader)


def make_loader(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 8, 24, generator=g)
    t = torch.randint(1, CFG["vocab"], (n, 4), generator=g)
    lens = torch.full((n,), 4, dtype=torch.long)
    return DataLoader(TensorDataset(x, t, lens), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    model = PlateRecognizer(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.9)
    model, optimizer, train_loader, val_loader, scheduler = accelerator.prepare(
        model, optimizer, make_loader(16, 0), make_loader(8, 1), scheduler)
    for epoch in range(CFG["epochs"]):
        for step, (x, t, l) in enumerate(train_loader):
            loss = ctc_loss(model, x, t, l)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            if (step + 1) % CFG["val_every"] == 0:
                validate(model, val_loader)
        scheduler.step()
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
