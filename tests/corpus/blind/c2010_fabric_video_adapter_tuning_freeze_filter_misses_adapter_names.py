import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class Adapter(nn.Module):
    def __init__(self, dim, ratio=0.25, skip=True):
        super().__init__()
        hidden = int(dim * ratio)
        self.fc1, self.fc2, self.skip = nn.Linear(dim, hidden), nn.Linear(hidden, dim), skip

    def forward(self, x):
        h = self.fc2(F.gelu(self.fc1(x)))
        return x + h if self.skip else h


class AdaptedBlock(nn.Module):
    """A pretrained ViT block with AIM-style spatial / temporal adapters inserted."""

    def __init__(self, dim=16, heads=2):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.T_Adapter = Adapter(dim, skip=False)
        self.S_Adapter = Adapter(dim)

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.T_Adapter(self.attn(h, h, h, need_weights=False)[0])
        h = self.norm1(x)
        x = x + self.S_Adapter(self.attn(h, h, h, need_weights=False)[0])
        return x + self.mlp(self.norm2(x))


class VideoViT(nn.Module):
    def __init__(self, dim=16, n_classes=5):
        super().__init__()
        self.patch = nn.Linear(12, dim)
        self.blocks = nn.Sequential(AdaptedBlock(dim), AdaptedBlock(dim))
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        return self.head(self.blocks(self.patch(x)).mean(dim=1))


def freeze_backbone(model, trainable_keywords=("adapter", "head")):
    """Parameter-efficient tuning: only the adapters and the classification head are trained."""
    for name, param in model.named_parameters():
        if not any(k in name for k in trainable_keywords):
            param.requires_grad = False


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    clips = torch.randn(16, 6, 12)
    labels = torch.randint(0, 5, (16,))
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(clips, labels), batch_size=4, shuffle=True))
    model = VideoViT()
    freeze_backbone(model)
    a0 = model.blocks[0].S_Adapter.fc1.weight.detach().clone()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-4, weight_decay=0.05)
    model, optimizer = fabric.setup(model, optimizer)
    for x, y in loader:
        optimizer.zero_grad()
        fabric.backward(F.cross_entropy(model(x), y))
        optimizer.step()
    net = model.module
    return {"model": net}, {"adapters_changed": not torch.equal(a0, net.blocks[0].S_Adapter.fc1.weight)}

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
