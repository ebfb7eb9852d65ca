import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

CFG = {"vocab": 11, "hidden": 24, "img_h": 16, "img_w": 32, "max_label": 4, "lr": 1e-3, "epochs": 2}


class CRNN(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d((2, 1)),
                                 nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d((1, None)))
        self.rnn = nn.LSTM(32, cfg["hidden"], batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * cfg["hidden"], cfg["vocab"])

    def forward(self, x):
        feats = self.cnn(x).squeeze(2).transpose(1, 2)   # (B, W, C)
        seq, _ = self.rnn(feats)
        return self.fc(seq)                              # (B, T, vocab)


def ctc_log_probs(logits, temperature=1.0):
    """Temperature-calibrated log-softmax shared with the beam-search decoder (kept in numpy)."""
    z = logits.detach().cpu().numpy() / temperature
    z = z - z.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return torch.from_numpy(logp).requires_grad_()


def train_one_epoch(model, loader, optimizer, accelerator, ctc):
    model.train()
    total = 0.0
    for images, targets, target_lens in loader:
        logits = model(images)
        log_probs = ctc_log_probs(logits).transpose(0, 1)          # (T, B, C)
        input_lens = torch.full((images.size(0),), log_probs.size(0), dtype=torch.long)
        loss = ctc(log_probs, targets, input_lens, target_lens)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def synthetic_lines(cfg, n=16):
    g = torch.Generator().manual_seed(0)
    images = torch.randn(n, 1, cfg["img_h"], cfg["img_w"], generator=g)
    targets = torch.randint(1, cfg["vocab"], (n, cfg["max_label"]), generator=g)
    lens = torch.randint(2, cfg["max_label"] + 1, (n,), generator=g)
    return DataLoader(TensorDataset(images, targets, lens), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    model = CRNN(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer, loader = accelerator.prepare(model, optimizer, synthetic_lines(CFG))
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    cnn0 = model.cnn[0].weight.detach().clone()
    fc0 = model.fc.weight.detach().clone()
    for _ in range(CFG["epochs"]):
        train_one_epoch(model, loader, optimizer, accelerator, ctc)
    return {"model": model}, {
        "cnn_changed": not torch.equal(cnn0, model.cnn[0].weight),
        "fc_changed": not torch.equal(fc0, model.fc.weight),
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
