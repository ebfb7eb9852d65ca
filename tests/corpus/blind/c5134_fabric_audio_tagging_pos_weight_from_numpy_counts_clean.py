import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_mels": 16, "frames": 12, "tags": 6, "lr": 2e-3, "epochs": 2, "max_pos_weight": 10.0}


class TaggingCNN(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(cfg["n_mels"], 32, 3, padding=1), nn.ReLU(),
                                      nn.Conv1d(32, 32, 3, padding=1), nn.ReLU())
        self.attn = nn.Conv1d(32, cfg["tags"], 1)
        self.cla = nn.Conv1d(32, cfg["tags"], 1)

    def forward(self, mel):
        h = self.features(mel)
        att = torch.softmax(self.attn(h), dim=-1)
        return (att * self.cla(h)).sum(-1)                      # clip-level logits (attention pooling)


def pos_weight_from_counts(labels, cap):
    """Inverse positive frequency per tag, computed once from the training labels."""
    y = labels.numpy()
    pos = y.sum(0)
    neg = len(y) - pos
    w = np.clip(neg / np.maximum(pos, 1.0), 1.0, cap)
    return torch.from_numpy(w.astype(np.float32))


def train_epoch(fabric, model, optimizer, loader, pos_weight):
    running = []
    for mel, y in loader:
        loss = F.binary_cross_entropy_with_logits(model(mel), y, pos_weight=pos_weight)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        running.append(loss.item())
    return float(np.mean(running))


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    mel = torch.randn(64, CFG["n_mels"], CFG["frames"], generator=g)
    labels = (mel[:, :CFG["tags"]].mean(-1) > torch.linspace(-0.2, 0.6, CFG["tags"])).float()
    pos_weight = pos_weight_from_counts(labels, CFG["max_pos_weight"])
    model = TaggingCNN(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(mel, labels), batch_size=16, shuffle=True, generator=g))
    a0, c0 = model.module.attn.weight.detach().clone(), model.module.cla.weight.detach().clone()
    losses = [train_epoch(fabric, model, optimizer, loader, pos_weight) for _ in range(CFG["epochs"])]
    return {"model": model.module}, {
        "attention_changed": not torch.equal(a0, model.module.attn.weight),
        "classifier_changed": not torch.equal(c0, model.module.cla.weight),
        "loss_logged_as_float": isinstance(losses[-1], float),
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
