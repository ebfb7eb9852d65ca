import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class FastFusion(nn.Module):
    def __init__(self, n_inputs, ch, eps=1e-4):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n_inputs))
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)
        self.eps = eps

    def forward(self, feats):
        w = self.relu(self.weight)
        w = w / (w.sum() + self.eps)
        return self.conv(sum(wi * f for wi, f in zip(w, feats)))


class TinyBiFPN(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.p3 = nn.Conv2d(3, ch, 3, stride=2, padding=1)
        self.p4 = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        self.fuse_td = FastFusion(2, ch)
        self.fuse_out = FastFusion(2, ch)
        self.head = nn.Conv2d(ch, 1, 1)

    def forward(self, images):
        p3 = F.relu(self.p3(images))
        p4 = F.relu(self.p4(p3))
        td = self.fuse_td([p3, F.interpolate(p4, size=p3.shape[-2:], mode="nearest")])
        out = self.fuse_out([td, p3])
        return self.head(out)


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    images = torch.randn(8, 3, 16, 16, generator=g)
    heatmaps = (torch.rand(8, 1, 8, 8, generator=g) > 0.9).float()
    model = TinyBiFPN()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(images, heatmaps), batch_size=4)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for x, y in loader:
        loss = F.binary_cross_entropy_with_logits(model(x), y)
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
