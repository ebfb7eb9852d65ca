import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class GatedConvBlock(nn.Module):
    """Gated 1-D convolution over log-mel frames; padded frames are switched off through the gate."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=1)
        self.gate_conv = nn.Conv1d(channels, channels, 3, padding=1)

    def forward(self, x, frame_mask):
        gate = torch.sigmoid(self.gate_conv(x))
        gate *= frame_mask[:, None, :]
        return x + self.conv(x) * gate


class KeywordSpotter(nn.Module):
    def __init__(self, n_mels=20, channels=32, n_keywords=6):
        super().__init__()
        self.stem = nn.Conv1d(n_mels, channels, 1)
        self.blocks = nn.ModuleList(GatedConvBlock(channels) for _ in range(2))
        self.classifier = nn.Linear(channels, n_keywords)

    def forward(self, mels, frame_mask):
        x = self.stem(mels)
        for block in self.blocks:
            x = block(x, frame_mask)
        pooled = (x * frame_mask[:, None, :]).sum(-1) / frame_mask.sum(-1, keepdim=True)
        return self.classifier(pooled)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    mels = torch.randn(32, 20, 40, generator=g)
    lengths = torch.randint(20, 41, (32,), generator=g)
    mask = (torch.arange(40)[None, :] < lengths[:, None]).float()
    labels = torch.randint(0, 6, (32,), generator=g)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(mels, mask, labels), batch_size=8, shuffle=True))
    model = KeywordSpotter()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    model.train()
    for mel, m, y in loader:
        loss = F.cross_entropy(model(mel, m), y)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}

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
