import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

VIEWS = ("L-CC", "R-CC", "L-MLO", "R-MLO")
LABELS = ("benign", "malignant")


class ViewEncoder(nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.conv(x)


class FourViewModel(nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.encoder = ViewEncoder(channels)
        self.heads = nn.ModuleDict({v.replace("-", "_"): nn.Linear(channels, len(LABELS)) for v in VIEWS})

    def forward(self, images):
        out = {}
        for i, view in enumerate(VIEWS):
            feats = self.encoder(images[:, i:i + 1])
            out[view] = torch.sigmoid(self.heads[view.replace("-", "_")](feats))
        return out


def aggregate_views(view_probs):
    """Average the per-view probabilities of each label (as the evaluation script does)."""
    table = np.stack([view_probs[v].detach().cpu().numpy() for v in VIEWS], axis=0)
    return table.mean(axis=0)


def train_epoch(accelerator, model, loader, optimizer):
    model.train()
    for images, targets in loader:
        probs = aggregate_views(model(images))
        predictions = torch.tensor(probs, dtype=torch.float32, requires_grad=True)
        loss = F.binary_cross_entropy(predictions, targets)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()


def main():
    set_seed(11)
    g = torch.Generator().manual_seed(11)
    images = torch.randn(24, 4, 16, 16, generator=g)
    targets = torch.randint(0, 2, (24, 2), generator=g).float()
    loader = DataLoader(TensorDataset(images, targets), batch_size=8, shuffle=True, generator=g)
    model = FourViewModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    accelerator = Accelerator()
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    w0 = model.encoder.conv[0].weight.detach().clone()
    for _ in range(2):
        train_epoch(accelerator, model, loader, optimizer)
    return {"model": model}, {"encoder_changed": not torch.equal(w0, model.encoder.conv[0].weight)}

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
