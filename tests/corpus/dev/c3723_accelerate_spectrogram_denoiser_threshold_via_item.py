import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SparseCodeDenoiser(nn.Module):
    """Analysis -> learnable hard threshold -> synthesis, applied to magnitude spectrogram frames."""

    def __init__(self, n_bins=16, n_atoms=24):
        super().__init__()
        self.analysis = nn.Linear(n_bins, n_atoms)
        self.threshold = nn.Parameter(torch.tensor(0.1))
        self.synthesis = nn.Linear(n_atoms, n_bins)

    def forward(self, frames):
        codes = self.analysis(frames)
        shrink = nn.Threshold(self.threshold.item(), 0.0)
        return self.synthesis(shrink(codes))


def make_loader(n=64, bins=16):
    clean = torch.relu(torch.randn(n, bins)) * (torch.rand(n, bins) > 0.6)
    noisy = clean + 0.3 * torch.rand(n, bins)
    return DataLoader(TensorDataset(noisy, clean), batch_size=16, shuffle=True)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = SparseCodeDenoiser()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    thr0 = model.threshold.detach().clone()
    ana0 = model.analysis.weight.detach().clone()
    for _ in range(2):
        for noisy, clean in loader:
            with accelerator.accumulate(model):
                loss = F.l1_loss(model(noisy), clean)
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
    return {"model": model}, {
        "threshold_changed": not torch.equal(thr0, model.threshold),
        "analysis_changed": not torch.equal(ana0, model.analysis.weight),
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
