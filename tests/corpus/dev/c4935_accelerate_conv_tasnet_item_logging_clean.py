import numpy as np
import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TasNetLite(nn.Module):
    def __init__(self, n_filters=16):
        super().__init__()
        self.encoder = nn.Conv1d(1, n_filters, 8, stride=4, bias=False)
        self.separator = nn.Sequential(nn.Conv1d(n_filters, 32, 1), nn.PReLU(), nn.Conv1d(32, n_filters, 3, padding=1), nn.Sigmoid())
        self.decoder = nn.ConvTranspose1d(n_filters, 1, 8, stride=4, bias=False)

    def forward(self, mix):
        w = torch.relu(self.encoder(mix))
        return self.decoder(w * self.separator(w))[..., :mix.shape[-1]]


def si_snr(est, ref, eps=1e-8):
    est, ref = est - est.mean(-1, keepdim=True), ref - ref.mean(-1, keepdim=True)
    proj = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + eps) * ref
    return 10 * torch.log10(proj.pow(2).sum(-1) / ((est - proj).pow(2).sum(-1) + eps) + eps)


def train(accelerator, model, loader, optimizer, scheduler, epochs=2):
    history = {"loss": [], "si_snr_db": []}
    for _ in range(epochs):
        for mix, clean in loader:
            with accelerator.accumulate(model):
                est = model(mix)
                loss = -si_snr(est, clean).mean()
                accelerator.backward(loss)
                accelerator.clip_grad_norm_(model.parameters(), 5.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            history["loss"].append(loss.item())
            history["si_snr_db"].append(float(np.mean(si_snr(est.detach(), clean).cpu().numpy())))
    return history


def main():
    set_seed(0)
    g = torch.Generator().manual_seed(0)
    T = 256
    t = torch.arange(T) / 8000.0
    clean = torch.sin(2 * torch.pi * (200 + 300 * torch.rand(32, 1, 1, generator=g)) * t)
    data = TensorDataset(clean + 0.3 * torch.randn(32, 1, T, generator=g), clean)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = TasNetLite()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, DataLoader(data, batch_size=8), scheduler)
    sep0 = model.separator[0].weight.detach().clone()
    hist = train(accelerator, model, loader, optimizer, scheduler)
    return {"model": model}, {"separator_changed": not torch.equal(sep0, model.separator[0].weight),
                              "logged_floats": all(isinstance(v, float) for v in hist["si_snr_db"])}

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
