import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class VolumeEncoder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv3d(1, 8, 3, stride=2, padding=1), nn.GELU(), nn.AdaptiveAvgPool3d(1), nn.Flatten())
        self.proj = nn.Linear(8, dim)

    def forward(self, vol):
        return self.proj(self.conv(vol))


class ReportEncoder(nn.Module):
    def __init__(self, vocab=80, dim=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.mix = nn.GRU(dim, dim, batch_first=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, ids):
        _, h = self.mix(self.tok(ids))
        return self.proj(h[-1])


class VolumeReportCLIP(nn.Module):
    def __init__(self, dim=16, init_temperature=0.07):
        super().__init__()
        self.image_encoder = VolumeEncoder(dim)
        self.text_encoder = ReportEncoder(dim=dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / init_temperature)))

    def forward(self, vol, ids):
        img = F.normalize(self.image_encoder(vol), dim=-1)
        txt = F.normalize(self.text_encoder(ids), dim=-1)
        scale = self.logit_scale.exp().clamp(max=100).item()
        return scale * img @ txt.t()


def clip_loss(logits):
    target = torch.arange(logits.size(0))
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    g = torch.Generator().manual_seed(0)
    vols = torch.randn(24, 1, 6, 6, 6, generator=g)
    reports = torch.randint(0, 80, (24, 7), generator=g)
    loader = DataLoader(TensorDataset(vols, reports), batch_size=6, shuffle=True, generator=g)
    model = VolumeReportCLIP()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    s0 = model.logit_scale.detach().clone()
    for epoch in range(2):
        for vol, ids in loader:
            with accelerator.accumulate(model):
                loss = clip_loss(model(vol, ids))
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
    accelerator.backward(clip_loss(model(vol, ids)))
    return {"model": model}, {"temperature_changed": not torch.equal(s0, model.logit_scale.detach())}

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
