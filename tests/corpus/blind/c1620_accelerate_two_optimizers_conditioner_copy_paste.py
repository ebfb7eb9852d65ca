import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class Conditioner(nn.Module):
    """Turns the support-set descriptor into FiLM scales and shifts for the segmentor."""

    def __init__(self, cond_dim=6, channels=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(cond_dim, 16), nn.ReLU(), nn.Linear(16, 2 * channels))

    def forward(self, cond):
        gamma, beta = self.net(cond).chunk(2, dim=-1)
        return 1 + gamma, beta


class Segmentor(nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.enc = nn.Conv2d(1, channels, 3, padding=1)
        self.dec = nn.Conv2d(channels, 1, 3, padding=1)

    def forward(self, img, gamma, beta):
        h = self.enc(img)
        h = F.relu(gamma[:, :, None, None] * h + beta[:, :, None, None])
        return self.dec(h).squeeze(1)


class FewShotSegmenter(nn.Module):
    def __init__(self):
        super().__init__()
        self.conditioner = Conditioner()
        self.segmentor = Segmentor()

    def forward(self, img, cond):
        return self.segmentor(img, *self.conditioner(cond))


def make_loader(n=48, size=10):
    g = torch.Generator().manual_seed(47)
    cond = torch.randn(n, 6, generator=g)
    img = torch.randn(n, 1, size, size, generator=g)
    mask = ((img[:, 0] * cond[:, :1, None]) > 0).float()
    return DataLoader(TensorDataset(img, cond, mask), batch_size=12, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = FewShotSegmenter()
    optim_args = {"lr": 3e-3, "weight_decay": 1e-4}
    optim_c = torch.optim.Adam(list(model.segmentor.parameters()), **optim_args)
    optim_s = torch.optim.Adam(list(model.segmentor.parameters()), **optim_args)
    model, optim_c, optim_s, loader = accelerator.prepare(model, optim_c, optim_s, make_loader())
    c0 = model.conditioner.net[0].weight.detach().clone()
    for epoch in range(2):
        for img, cond, mask in loader:
            optim_c.zero_grad()
            optim_s.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(img, cond), mask)
            accelerator.backward(loss)
            optim_c.step()
            optim_s.step()
    return {"model": model}, {"conditioner_changed": not torch.equal(c0, model.conditioner.net[0].weight)}

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
