import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_mels": 10, "hidden": 24, "vocab": 6, "blank": 0, "blank_penalty": 0.5, "lr": 2e-3, "epochs": 2,
       "frames": 18, "label_len": 4}


class ConvCTC(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(cfg["n_mels"], cfg["hidden"], 5, padding=2), nn.ReLU(),
                                  nn.Conv1d(cfg["hidden"], cfg["hidden"], 5, padding=2), nn.ReLU())
        self.out = nn.Linear(cfg["hidden"], cfg["vocab"])

    def forward(self, feats):
        h = self.conv(feats.transpose(1, 2)).transpose(1, 2)
        return F.log_softmax(self.out(h), dim=-1)


class CTCTrainer:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=1, gamma=0.8)

    def penalize_blank(self, log_probs):
        """Discourage the all-blank collapse early in training by lowering the blank score."""
        log_probs[..., self.cfg["blank"]] -= self.cfg["blank_penalty"]
        return log_probs

    def loss(self, feats, labels):
        log_probs = self.penalize_blank(self.model(feats))
        B, T = log_probs.shape[:2]
        return F.ctc_loss(log_probs.transpose(0, 1), labels, torch.full((B,), T, dtype=torch.long),
                          torch.full((B,), labels.shape[1], dtype=torch.long), blank=self.cfg["blank"])

    def fit(self, loader):
        for epoch in range(self.cfg["epochs"]):
            for feats, labels in loader:
                loss = self.loss(feats, labels)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            self.scheduler.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(32, CFG["frames"], CFG["n_mels"], generator=g)
    labels = torch.randint(1, CFG["vocab"], (32, CFG["label_len"]), generator=g)
    loader = DataLoader(TensorDataset(feats, labels), batch_size=8, shuffle=True, generator=g)
    model = ConvCTC(CFG)
    CTCTrainer(model, CFG).fit(loader)
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
