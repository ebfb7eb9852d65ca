import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class DeeplySupervisedNet(nn.Module):
    """Edge detector with a side output after every stage (HED-style deep supervision)."""

    def __init__(self, ch=6):
        super().__init__()
        self.stage1 = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.ReLU())
        self.stage2 = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.stage3 = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.side = nn.ModuleList([nn.Conv2d(ch, 1, 1) for _ in range(3)])
        self.fuse = nn.Conv2d(3, 1, 1)

    def forward(self, x):
        f1 = self.stage1(x)
        f2 = self.stage2(f1)
        f3 = self.stage3(f2)
        sides = [head(f) for head, f in zip(self.side, (f1, f2, f3))]
        return sides, self.fuse(torch.cat(sides, dim=1))


def deep_supervision_loss(sides, fused, edges, side_weight=0.5):
    terms = [side_weight * F.binary_cross_entropy_with_logits(s, edges).item() for s in sides]
    terms.append(F.binary_cross_entropy_with_logits(fused, edges).item())
    return torch.tensor(terms, requires_grad=True).sum()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = DeeplySupervisedNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(26)
    images = torch.rand(24, 1, 12, 12, generator=g)
    edges = (images[:, :, :, 1:] - images[:, :, :, :-1]).abs().gt(0.4).float()
    edges = F.pad(edges, (0, 1))
    loader = DataLoader(TensorDataset(images, edges), batch_size=6, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    model.train()
    for x, y in loader:
        sides, fused = model(x)
        loss = deep_supervision_loss(sides, fused, y)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
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
